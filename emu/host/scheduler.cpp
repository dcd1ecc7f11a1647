// Runs a grid of a host-built kernel: blocks one after the other, the
// threads of a block as cooperative fibers that switch only at
// `__syncthreads`. A fiber runs until it returns or reaches a barrier; when
// every live thread of the block waits at the same barrier they all go on.
// A barrier that only some threads reach, or threads waiting at different
// barriers, is an error (a hang or undefined behaviour on a GPU).
//
// Most blocks never reach a barrier. The first thread of each block runs on
// a fiber; when it returns without reaching one, no thread of a correct
// kernel reaches one either, and the rest of the block runs as plain calls
// (a thread that does reach a barrier then is reported as above). This
// keeps an element-wise launch at a function call per thread.
//
// Threads start in forward or reversed order (the caller alternates), so a
// kernel that silently depends on one thread running before another gives
// different results from one launch to the next.

#include "cuda_host.h"
#include "kernel_table.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

extern "C" {
emu_uint3 emu_threadIdx, emu_blockIdx, emu_blockDim, emu_gridDim;
}

namespace {

// Kernels keep a few scalars and call libm: 64 KiB is ample. Below each
// stack lies a page that faults on touch, so an overflow cannot go unseen.
constexpr size_t kStackBytes = 64 * 1024;

enum FiberState { kRunnable, kAtBarrier, kDone };

struct Fiber {
    void* sp = nullptr;
    char* stack = nullptr;
    FiberState state = kRunnable;
    int barrier_line = 0;
};

void* g_scheduler_sp = nullptr;
Fiber* g_current = nullptr;
// The threads to run in this round, in order, and the one running: a fiber
// that waits or returns hands over to the next directly (one switch per
// thread), the last one back to the scheduler.
std::vector<Fiber>* g_fibers = nullptr;
std::vector<unsigned> g_round;
size_t g_round_pos = 0;
// Set by a barrier reached outside a fiber (a block running as plain calls).
int g_unexpected_barrier = 0;
const EmuKernel* g_kernel = nullptr;
void* const* g_params = nullptr;
std::vector<char*> g_free_stacks;
size_t g_page = 0;

}  // namespace

// Saves the callee-saved registers on the current stack, stores the stack
// pointer in *save, and resumes the fiber whose saved stack pointer is `to`
// (System V x86-64). The MXCSR and x87 control words are not switched: no
// kernel changes rounding or exception masks, so every fiber shares them.
extern "C" void emu_switch(void** save, void* to);
extern "C" void emu_fiber_trampoline();
extern "C" void emu_fiber_main(Fiber* f);

asm(R"(
    .text
    .intel_syntax noprefix
    .globl emu_switch
    .hidden emu_switch
    .type emu_switch, @function
emu_switch:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov qword ptr [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
    .size emu_switch, .-emu_switch

    .globl emu_fiber_trampoline
    .hidden emu_fiber_trampoline
    .type emu_fiber_trampoline, @function
emu_fiber_trampoline:
    mov rdi, rbx
    call emu_fiber_main
    ud2
    .size emu_fiber_trampoline, .-emu_fiber_trampoline
    .att_syntax prefix
)");

namespace {
void leave(void** save);
}

extern "C" void emu_fiber_main(Fiber* f) {
    g_kernel->run_thread(g_params);
    f->state = kDone;
    void* unused;
    leave(&unused);
    abort();  // a finished fiber is never resumed
}

extern "C" void emu_syncthreads(int line) {
    Fiber* f = g_current;
    if (f == nullptr) {
        // The thread cannot wait here; it runs on and the launch fails.
        g_unexpected_barrier = line;
        return;
    }
    f->state = kAtBarrier;
    f->barrier_line = line;
    leave(&f->sp);
}

namespace {

char* take_stack() {
    if (!g_free_stacks.empty()) {
        char* s = g_free_stacks.back();
        g_free_stacks.pop_back();
        return s;
    }
    if (g_page == 0) g_page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* m = mmap(nullptr, kStackBytes + g_page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "cuda emulator: cannot map a fiber stack\n");
        abort();
    }
    mprotect(m, g_page, PROT_NONE);
    return static_cast<char*>(m) + g_page;
}

// A fresh fiber's stack, laid out as emu_switch leaves a suspended one: six
// callee-saved registers (rbx carries the fiber to the trampoline) and the
// trampoline as the return address, placed so that the trampoline's call
// happens on a 16-byte aligned stack.
void* initial_sp(char* stack, Fiber* f) {
    uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + kStackBytes) & ~uintptr_t(15);
    uint64_t* slot = reinterpret_cast<uint64_t*>(top);
    slot[-3] = reinterpret_cast<uint64_t>(&emu_fiber_trampoline);
    slot[-4] = 0;                                   // rbp
    slot[-5] = reinterpret_cast<uint64_t>(f);       // rbx
    slot[-6] = slot[-7] = slot[-8] = slot[-9] = 0;  // r12 .. r15
    return reinterpret_cast<void*>(top - 72);
}

// Switches from the context saved at `save` to thread t's fiber, starting
// it on a stack of its own the first time.
void enter(unsigned t, void** save) {
    Fiber& f = (*g_fibers)[t];
    if (f.stack == nullptr) {
        f.stack = take_stack();
        f.sp = initial_sp(f.stack, &f);
    }
    emu_threadIdx = {t, 0, 0};
    g_current = &f;
    emu_switch(save, f.sp);
}

// The running fiber waits or has returned: on to the round's next thread,
// or back to the scheduler after the last.
void leave(void** save) {
    if (++g_round_pos < g_round.size()) {
        enter(g_round[g_round_pos], save);
    } else {
        g_current = nullptr;
        emu_switch(save, g_scheduler_sp);
    }
}

// Runs every thread of g_round until it waits or returns; the stacks of
// those that returned go back to the pool.
void run_round() {
    if (g_round.empty()) return;
    g_round_pos = 0;
    enter(g_round[0], &g_scheduler_sp);
    for (unsigned t : g_round) {
        Fiber& f = (*g_fibers)[t];
        if (f.state == kDone && f.stack != nullptr) {
            g_free_stacks.push_back(f.stack);
            f.stack = nullptr;
        }
    }
}

}  // namespace

// Runs `grid` blocks of `block` threads of `k` with the given argument
// list. Returns 0, or -1 with a message in `msg` when a barrier is misused.
extern "C" int emu_run_grid(const EmuKernel* k, void* const* params, unsigned grid,
                            unsigned block, int reverse, char* msg, size_t msg_len) {
    g_kernel = k;
    g_params = params;
    emu_gridDim = {grid, 1, 1};
    emu_blockDim = {block, 1, 1};
    std::vector<Fiber> fibers(block);
    g_fibers = &fibers;
    for (unsigned b = 0; b < grid; ++b) {
        emu_blockIdx = {b, 0, 0};
        for (Fiber& f : fibers) f = Fiber{};
        unsigned first = reverse ? block - 1 : 0;
        g_round.assign(1, first);
        run_round();
        if (fibers[first].state == kDone) {
            g_unexpected_barrier = 0;
            for (unsigned i = 1; i < block; ++i) {
                unsigned t = reverse ? block - 1 - i : i;
                emu_threadIdx = {t, 0, 0};
                k->run_thread(params);
                if (g_unexpected_barrier != 0) {
                    snprintf(msg, msg_len,
                             "kernel %s, block %u of %u: thread %u reached __syncthreads at "
                             "line %d, thread %u returned without reaching it",
                             k->name, b, grid, t, g_unexpected_barrier, first);
                    return -1;
                }
            }
            continue;
        }
        for (;;) {
            g_round.clear();
            for (unsigned i = 0; i < block; ++i) {
                unsigned t = reverse ? block - 1 - i : i;
                if (fibers[t].state == kRunnable) g_round.push_back(t);
            }
            run_round();
            unsigned waiting = 0, done = 0;
            int line = 0, other_line = 0;
            for (const Fiber& f : fibers) {
                if (f.state == kDone) {
                    ++done;
                } else if (f.state == kAtBarrier) {
                    if (waiting++ == 0) {
                        line = f.barrier_line;
                    } else if (f.barrier_line != line) {
                        other_line = f.barrier_line;
                    }
                }
            }
            if (waiting == 0) break;
            const char* problem = nullptr;
            if (done > 0) {
                problem = "some threads returned while others wait at __syncthreads";
            } else if (other_line != 0) {
                problem = "threads wait at different __syncthreads calls";
            }
            if (problem != nullptr) {
                int n = snprintf(msg, msg_len,
                                 "kernel %s, block %u of %u: %s (%u of %u threads waiting, "
                                 "at line %d",
                                 k->name, b, grid, problem, waiting, block, line);
                if (n >= 0 && static_cast<size_t>(n) < msg_len) {
                    if (other_line != 0) {
                        snprintf(msg + n, msg_len - n, " and line %d)", other_line);
                    } else {
                        snprintf(msg + n, msg_len - n, ")");
                    }
                }
                // The suspended fibers are abandoned; their stacks are reused.
                for (Fiber& f : fibers) {
                    if (f.stack != nullptr) g_free_stacks.push_back(f.stack);
                }
                return -1;
            }
            for (Fiber& f : fibers) f.state = kRunnable;
        }
    }
    return 0;
}
