// The Gaussian latent layer: reparameterisation with the KL term's partial
// sums (stage one of a two-stage sum, see common.cuh), and its backward.

// exp(0.5 logvar), its exponent capped as on the CPU so it cannot overflow.
__device__ __forceinline__ float std_dev(float logvar) {
    return expf(fminf(0.5f * logvar, 87.0f));
}

// z = mu + eps * std; partials[block] = this block's share of
// sum(1 + logvar - mu^2 - std^2). Launched with REDUCE_BLOCKS x REDUCE_THREADS.
extern "C" __global__ void gaussian_forward(const float* mu, const float* logvar,
                                            const float* eps, float* z, double* partials,
                                            long long n) {
    double acc = 0.0;
    GRID_STRIDE(i, n) {
        float m = mu[i], lv = logvar[i];
        float s = std_dev(lv);
        z[i] = fmaf(eps[i], s, m);
        acc += (double)((1.0f + lv) - m * m - s * s);
    }
    double total = block_sum(acc);
    if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

// dmu = dz + kl_scale mu; dlogvar = 0.5 dz eps std + 0.5 kl_scale (std^2 - 1).
extern "C" __global__ void gaussian_backward(float kl_scale, const float* mu,
                                             const float* logvar, const float* eps,
                                             const float* dz, float* dmu, float* dlogvar,
                                             long long n) {
    GRID_STRIDE(i, n) {
        float s = std_dev(logvar[i]);
        dmu[i] = fmaf(kl_scale, mu[i], dz[i]);
        float kl_part = 0.5f * kl_scale * (s * s - 1.0f);
        dlogvar[i] = fmaf(dz[i] * eps[i] * 0.5f, s, kl_part);
    }
}
