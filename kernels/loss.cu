// Losses: summed squared error and softmax cross-entropy. Each writes its
// gradient and the partial sums of its loss (stage one, see common.cuh);
// reduce.cu's finish_sum scales them into the one-value loss slot.

// dpred = scale * (pred - target); partials: sum((pred - target)^2).
extern "C" __global__ void sse_loss(const float* pred, const float* target, float* dpred,
                                    double* partials, long long n, float scale) {
    double acc = 0.0;
    GRID_STRIDE(i, n) {
        float d = pred[i] - target[i];
        dpred[i] = d * scale;
        acc += (double)d * (double)d;
    }
    double total = block_sum(acc);
    if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

// One thread per row: probs = softmax(logits), dlogits = (probs - onehot) *
// inv_rows; partials: sum over rows of -log softmax(logits)[label]. The row
// sum of exponentials is carried in double, as on the CPU.
extern "C" __global__ void softmax_xent(const float* logits, const u32* labels, float* probs,
                                        float* dlogits, double* partials, long long rows,
                                        long long classes, float inv_rows) {
    double acc = 0.0;
    GRID_STRIDE(r, rows) {
        const float* x = logits + r * classes;
        float* p = probs + r * classes;
        float* d = dlogits + r * classes;
        float mx = __int_as_float(0xff800000); // -inf
        for (long long j = 0; j < classes; ++j) mx = fmaxf(mx, x[j]);
        double sum = 0.0;
        for (long long j = 0; j < classes; ++j) {
            p[j] = expf(x[j] - mx);
            sum += (double)p[j];
        }
        float inv = (float)(1.0 / sum);
        u32 label = labels[r];
        for (long long j = 0; j < classes; ++j) {
            p[j] *= inv;
            float target = (u32)j == label ? 1.0f : 0.0f;
            d[j] = (p[j] - target) * inv_rows;
        }
        acc += log(sum) - (double)(x[label] - mx);
    }
    double total = block_sum(acc);
    if (threadIdx.x == 0) partials[blockIdx.x] = total;
}
