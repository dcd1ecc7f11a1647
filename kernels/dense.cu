// Dense layers: fused bias + activation forward, activation backward from
// the activation's output, and the block copy used to concatenate inputs.

// x[r, c] = act(x[r, c] + bias[c]) over n = rows * cols values.
template <typename I>
__device__ __forceinline__ void bias_act(float* x, const float* bias, I n, I cols, int act) {
    GRID_STRIDE_AS(I, i, n) { x[i] = activate(act, x[i] + bias[i % cols]); }
}
extern "C" __global__ void bias_act_forward(float* x, const float* bias, long long n,
                                            long long cols, int act) {
    if (FITS_32(n)) {
        bias_act<unsigned>(x, bias, (unsigned)n, (unsigned)cols, act);
    } else {
        bias_act<long long>(x, bias, n, cols, act);
    }
}

// dx = dy * act'(.), the derivative written in terms of y = act(.).
extern "C" __global__ void act_backward(const float* y, const float* dy, float* dx,
                                        long long n, int act) {
    GRID_STRIDE(i, n) {
        float d = dy[i];
        float yi = y[i];
        switch (act) {
        case ACT_RELU: d = yi > 0.0f ? d : 0.0f; break;
        case ACT_TANH: d = d * (1.0f - yi * yi); break;
        case ACT_SIGMOID: d = d * (yi * (1.0f - yi)); break;
        default: break;
        }
        dx[i] = d;
    }
}

// dst[r, dst_col0 + j] = src[r, src_col0 + j] for j < width. Only the
// division of the element index is narrowed; addresses stay 64-bit.
template <typename I>
__device__ __forceinline__ void copy_cols(const float* src, long long src_cols,
                                          long long src_col0, float* dst, long long dst_cols,
                                          long long dst_col0, I n, I width) {
    GRID_STRIDE_AS(I, i, n) {
        I r = i / width, j = i - r * width;
        dst[(long long)r * dst_cols + dst_col0 + j] = src[(long long)r * src_cols + src_col0 + j];
    }
}
extern "C" __global__ void copy_block(const float* src, long long src_cols, long long src_col0,
                                      float* dst, long long dst_cols, long long dst_col0,
                                      long long rows, long long width) {
    long long n = rows * width;
    if (FITS_32(n)) {
        copy_cols<unsigned>(src, src_cols, src_col0, dst, dst_cols, dst_col0, (unsigned)n,
                            (unsigned)width);
    } else {
        copy_cols<long long>(src, src_cols, src_col0, dst, dst_cols, dst_col0, n, width);
    }
}

// c[r, j] = beta c[r, j] for j < cols, rows ld apart: a GEMM with nothing
// to sum (k = 0, or alpha = 0). beta = 0 writes zeros without reading C,
// as BLAS does and the CPU backend does.
template <typename I>
__device__ __forceinline__ void scale(float* c, I n, I cols, long long ld, float beta) {
    GRID_STRIDE_AS(I, i, n) {
        I r = i / cols, j = i - r * cols;
        float* p = c + (long long)r * ld + j;
        *p = beta == 0.0f ? 0.0f : beta * *p;
    }
}
extern "C" __global__ void scale_rows(float* c, long long rows, long long cols, long long ld,
                                      float beta) {
    long long n = rows * cols;
    if (FITS_32(n)) {
        scale<unsigned>(c, (unsigned)n, (unsigned)cols, ld, beta);
    } else {
        scale<long long>(c, n, cols, ld, beta);
    }
}

// dst = value everywhere.
extern "C" __global__ void fill(float* dst, long long n, float value) {
    GRID_STRIDE(i, n) { dst[i] = value; }
}
