// The fused LSTM cell, one time step of one layer (gate order i, f, g, o).
// The recurrent GEMMs between steps run in cuBLAS; lengths stay on the
// device, so the whole recurrence is issued without the host reading them.
// One thread per (sequence, hidden unit); a sequence past its end carries
// its state (forward) or its gradient (backward), as the CPU does.

// gates_t: [batch, 4H] pre-activations without bias on entry, activated
// gates on exit (real steps only); c_prev/h_prev -> c/h: [batch, H].
extern "C" __global__ void lstm_cell_forward(long long hidden, long long batch, long long step,
                                             const u32* lengths, const float* bias,
                                             float* gates, const float* c_prev,
                                             const float* h_prev, float* c, float* h) {
    GRID_STRIDE(k, batch * hidden) {
        long long b = k / hidden, j = k % hidden;
        if (step < (long long)lengths[b]) {
            float* g4 = gates + b * 4 * hidden;
            float i = sigmoidf_(g4[j] + bias[j]);
            float f = sigmoidf_(g4[hidden + j] + bias[hidden + j]);
            float g = tanhf(g4[2 * hidden + j] + bias[2 * hidden + j]);
            float o = sigmoidf_(g4[3 * hidden + j] + bias[3 * hidden + j]);
            float cj = fmaf(f, c_prev[k], i * g);
            g4[j] = i;
            g4[hidden + j] = f;
            g4[2 * hidden + j] = g;
            g4[3 * hidden + j] = o;
            c[k] = cj;
            h[k] = o * tanhf(cj);
        } else {
            c[k] = c_prev[k];
            h[k] = h_prev[k];
        }
    }
}

// Real steps: dgates from dh (this step's output gradient) and dc (carried
// from the step after, updated in place to the gradient w.r.t. c_{t-1});
// the carry dh_{t-1} is left to the GEMM that follows. Padded steps: zero
// dgates, dc unchanged, dh added into the carry.
extern "C" __global__ void lstm_cell_backward(long long hidden, long long batch, long long step,
                                              const u32* lengths, const float* gates,
                                              const float* c_prev, const float* c,
                                              const float* dh, float* dc, float* dgates,
                                              float* dh_carry) {
    GRID_STRIDE(k, batch * hidden) {
        long long b = k / hidden, j = k % hidden;
        const float* g4 = gates + b * 4 * hidden;
        float* d4 = dgates + b * 4 * hidden;
        if (step < (long long)lengths[b]) {
            float i = g4[j], f = g4[hidden + j], g = g4[2 * hidden + j], o = g4[3 * hidden + j];
            float tc = tanhf(c[k]);
            float d_o = dh[k] * tc;
            float dct = fmaf(dh[k] * o, 1.0f - tc * tc, dc[k]);
            dc[k] = dct * f;
            d4[j] = dct * g * i * (1.0f - i);
            d4[hidden + j] = dct * c_prev[k] * f * (1.0f - f);
            d4[2 * hidden + j] = dct * i * (1.0f - g * g);
            d4[3 * hidden + j] = d_o * o * (1.0f - o);
        } else {
            d4[j] = 0.0f;
            d4[hidden + j] = 0.0f;
            d4[2 * hidden + j] = 0.0f;
            d4[3 * hidden + j] = 0.0f;
            dh_carry[k] += dh[k];
        }
    }
}
