// One Adam step over a whole parameter arena. The bias corrections are
// folded into step_size and inv_sqrt_bc2 on the host (in double, as the CPU
// does), so every element does the same few operations.
extern "C" __global__ void adam(float* params, const float* grads, float* m, float* v,
                                long long n, float beta1, float one_minus_beta1, float beta2,
                                float one_minus_beta2, float step_size, float inv_sqrt_bc2,
                                float eps) {
    GRID_STRIDE(i, n) {
        float g = grads[i];
        float mi = m[i] * beta1 + g * one_minus_beta1;
        float vi = v[i] * beta2 + (g * g) * one_minus_beta2;
        float denom = sqrtf(vi) * inv_sqrt_bc2 + eps;
        params[i] = params[i] - step_size * (mi / denom);
        m[i] = mi;
        v[i] = vi;
    }
}
