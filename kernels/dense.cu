// Dense layers: fused bias + activation forward, activation backward from
// the activation's output, and the block copy used to concatenate inputs.

// x[r, c] = act(x[r, c] + bias[c]) over n = rows * cols values.
extern "C" __global__ void bias_act_forward(float* x, const float* bias, long long n,
                                            long long cols, int act) {
    GRID_STRIDE(i, n) { x[i] = activate(act, x[i] + bias[i % cols]); }
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

// dst[r, dst_col0 + j] = src[r, src_col0 + j] for j < width.
extern "C" __global__ void copy_block(const float* src, long long src_cols, long long src_col0,
                                      float* dst, long long dst_cols, long long dst_col0,
                                      long long rows, long long width) {
    GRID_STRIDE(i, rows * width) {
        long long r = i / width, j = i % width;
        dst[r * dst_cols + dst_col0 + j] = src[r * src_cols + src_col0 + j];
    }
}

// dst = value everywhere.
extern "C" __global__ void fill(float* dst, long long n, float value) {
    GRID_STRIDE(i, n) { dst[i] = value; }
}
