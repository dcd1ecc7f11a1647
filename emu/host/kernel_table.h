// What the driver knows of a host-built kernel: its name, a function that
// runs one CUDA thread of it on an argument list laid out as cuLaunchKernel
// receives it, and its parameters' sizes and kinds (pointers are checked
// against the live allocations before every launch; sizes against the PTX).
#pragma once

#include <stddef.h>
#include <type_traits>
#include <utility>

#define EMU_MAX_PARAMS 32

struct EmuKernel {
    const char* name;
    void (*run_thread)(void* const* params);
    unsigned nparams;
    unsigned sizes[EMU_MAX_PARAMS];
    unsigned char is_pointer[EMU_MAX_PARAMS];
};

template <typename F, F f>
struct EmuKernelOf;

template <typename... A, void (*f)(A...)>
struct EmuKernelOf<void (*)(A...), f> {
    static_assert(sizeof...(A) <= EMU_MAX_PARAMS, "raise EMU_MAX_PARAMS");

    template <size_t... I>
    static void call(void* const* p, std::index_sequence<I...>) {
        // Each parameter is read from the bytes the launch copied, as the
        // GPU reads its parameter buffer.
        f(*static_cast<std::remove_reference_t<A>*>(p[I])...);
    }
    static void run_thread(void* const* params) {
        call(params, std::index_sequence_for<A...>{});
    }
    static constexpr EmuKernel describe(const char* name) {
        EmuKernel k{name, &run_thread, sizeof...(A), {sizeof(A)...},
                    {static_cast<unsigned char>(std::is_pointer<A>::value)...}};
        return k;
    }
};

#define EMU_KERNEL(f) EmuKernelOf<decltype(&f), &f>::describe(#f)
