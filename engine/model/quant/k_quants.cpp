// Q4_K and Q6_K: 256-element super-blocks whose sub-block scales are themselves quantized
// (6 bits for Q4_K, int8 for Q6_K) against one fp16 super-scale.
//
// The quantizers pick each sub-block's scale (and Q4_K's min) from its range, then refine it by
// least squares for the chosen levels; GGML's reference does a wider search, so our bytes may
// differ from llama-quantize's, but any GGML reader decodes them the same way.
#include <algorithm>
#include <cmath>

#include "engine/model/quant/quant.h"

namespace stemma::quant {
namespace {

int nearest_int(float v, int lo, int hi) {
  if (!(v == v)) return lo;  // NaN
  v = std::clamp(v, static_cast<float>(lo), static_cast<float>(hi));
  return static_cast<int>(std::lround(v));
}

// 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes.
void q4k_scale_min(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Fits x ~ scale * L - min with L in [0, 15], min >= 0. Returns scale, min (both >= 0).
void fit_scale_min_4bit(const float* x, int n, float* scale_out, float* min_out) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);  // the format stores -min >= 0
  if (!(hi > lo)) {
    *scale_out = 0.0f;
    *min_out = -lo;
    return;
  }
  float scale = (hi - lo) / 15.0f;
  float mn = -lo;
  // One least-squares step: with levels fixed, solve for (scale, min) minimizing the error.
  int L[32];
  for (int i = 0; i < n; ++i) L[i] = nearest_int((x[i] + mn) / scale, 0, 15);
  double sl = 0, sll = 0, sx = 0, sxl = 0;
  for (int i = 0; i < n; ++i) {
    sl += L[i];
    sll += static_cast<double>(L[i]) * L[i];
    sx += x[i];
    sxl += static_cast<double>(x[i]) * L[i];
  }
  double det = n * sll - sl * sl;
  if (det > 0) {
    double s = (n * sxl - sl * sx) / det;
    double b = (sll * sx - sl * sxl) / det;  // x ~ s*L + b, so min = -b
    if (s > 0 && b <= 0) {
      scale = static_cast<float>(s);
      mn = static_cast<float>(-b);
    }
  }
  *scale_out = scale;
  *min_out = mn;
}

// Fits x ~ scale * L with L in [-32, 31]; the signed extreme maps to -32.
float fit_scale_6bit(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax == 0.0f) return 0.0f;
  float scale = max / -32.0f;
  double sxl = 0, sll = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(x[i] / scale, -32, 31);
    sxl += static_cast<double>(x[i]) * l;
    sll += static_cast<double>(l) * l;
  }
  if (sll > 0) {
    float ls = static_cast<float>(sxl / sll);
    if (ls * scale > 0) scale = ls;  // keep the sign that maps the extreme in range
  }
  return scale;
}

}  // namespace

void quantize_row_q4_K(const float* x, BlockQ4_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    BlockQ4_K& out = y[b];
    float scales[8], mins[8];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
      fit_scale_min_4bit(xb + 32 * j, 32, &scales[j], &mins[j]);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    std::fill(out.scales, out.scales + 12, uint8_t{0});
    int ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
      ls[j] = nearest_int(inv_scale * scales[j], 0, 63);
      lm[j] = nearest_int(inv_min * mins[j], 0, 63);
      if (j < 4) {
        out.scales[j] = static_cast<uint8_t>(ls[j]);
        out.scales[j + 4] = static_cast<uint8_t>(lm[j]);
      } else {
        out.scales[j + 4] = static_cast<uint8_t>((ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4));
        out.scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
        out.scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
      }
    }
    out.d = fp32_to_fp16(max_scale / 63.0f);
    out.dmin = fp32_to_fp16(max_min / 63.0f);
    // Levels against the scales as the decoder will see them (after 6-bit and fp16 rounding).
    float d = fp16_to_fp32(out.d), dmin = fp16_to_fp32(out.dmin);
    uint8_t L[kQK_K];
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      q4k_scale_min(j, out.scales, &sc, &m);
      float ds = d * static_cast<float>(sc);
      float dm = dmin * static_cast<float>(m);
      for (int i = 0; i < 32; ++i) {
        L[32 * j + i] =
            static_cast<uint8_t>(ds != 0.0f ? nearest_int((xb[32 * j + i] + dm) / ds, 0, 15) : 0);
      }
    }
    for (int c = 0; c < 4; ++c) {  // 64-element chunk: low nibbles first 32, high nibbles next 32
      for (int i = 0; i < 32; ++i) {
        out.qs[32 * c + i] = static_cast<uint8_t>(L[64 * c + i] | (L[64 * c + 32 + i] << 4));
      }
    }
  }
}

void dequantize_row_q4_K(const BlockQ4_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ4_K& blk = x[b];
    float d = fp16_to_fp32(blk.d), dmin = fp16_to_fp32(blk.dmin);
    float* yb = y + b * kQK_K;
    for (int c = 0; c < 4; ++c) {
      int sc0, m0, sc1, m1;
      q4k_scale_min(2 * c, blk.scales, &sc0, &m0);
      q4k_scale_min(2 * c + 1, blk.scales, &sc1, &m1);
      float d0 = d * static_cast<float>(sc0), mm0 = dmin * static_cast<float>(m0);
      float d1 = d * static_cast<float>(sc1), mm1 = dmin * static_cast<float>(m1);
      const uint8_t* q = blk.qs + 32 * c;
      for (int i = 0; i < 32; ++i) yb[64 * c + i] = d0 * static_cast<float>(q[i] & 0x0f) - mm0;
      for (int i = 0; i < 32; ++i) yb[64 * c + 32 + i] = d1 * static_cast<float>(q[i] >> 4) - mm1;
    }
  }
}

void quantize_row_q6_K(const float* x, BlockQ6_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    BlockQ6_K& out = y[b];
    float scales[16];
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_scale_6bit(xb + 16 * j, 16);
      if (std::fabs(scales[j]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    uint8_t L[kQK_K];
    if (max_abs_scale == 0.0f) {
      std::fill(out.scales, out.scales + 16, int8_t{0});
      out.d = fp32_to_fp16(0.0f);
      std::fill(L, L + kQK_K, uint8_t{32});
    } else {
      float iscale = -128.0f / max_scale;  // the largest scale maps to -128
      out.d = fp32_to_fp16(1.0f / iscale);
      float d = fp16_to_fp32(out.d);
      for (int j = 0; j < 16; ++j) {
        int s = nearest_int(iscale * scales[j], -128, 127);
        out.scales[j] = static_cast<int8_t>(s);
        float ds = d * static_cast<float>(s);
        for (int i = 0; i < 16; ++i) {
          int l = ds != 0.0f ? nearest_int(xb[16 * j + i] / ds, -32, 31) : 0;
          L[16 * j + i] = static_cast<uint8_t>(l + 32);
        }
      }
    }
    for (int h = 0; h < 2; ++h) {  // two halves of 128; in each, four runs of 32
      const uint8_t* Lh = L + 128 * h;
      uint8_t* ql = out.ql + 64 * h;
      uint8_t* qh = out.qh + 32 * h;
      for (int i = 0; i < 32; ++i) {
        uint8_t a = Lh[i], bq = Lh[i + 32], c = Lh[i + 64], e = Lh[i + 96];
        ql[i] = static_cast<uint8_t>((a & 0x0f) | ((c & 0x0f) << 4));
        ql[i + 32] = static_cast<uint8_t>((bq & 0x0f) | ((e & 0x0f) << 4));
        qh[i] =
            static_cast<uint8_t>((a >> 4) | ((bq >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
      }
    }
  }
}

void dequantize_row_q6_K(const BlockQ6_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6_K& blk = x[b];
    float d = fp16_to_fp32(blk.d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk.ql + 64 * h;
      const uint8_t* qh = blk.qh + 32 * h;
      const int8_t* sc = blk.scales + 8 * h;
      float* yh = y + b * kQK_K + 128 * h;
      for (int i = 0; i < 32; ++i) {
        int is = i / 16;
        int q1 = ((ql[i] & 0x0f) | (((qh[i] >> 0) & 3) << 4)) - 32;
        int q2 = ((ql[i + 32] & 0x0f) | (((qh[i] >> 2) & 3) << 4)) - 32;
        int q3 = ((ql[i] >> 4) | (((qh[i] >> 4) & 3) << 4)) - 32;
        int q4 = ((ql[i + 32] >> 4) | (((qh[i] >> 6) & 3) << 4)) - 32;
        yh[i] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
        yh[i + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        yh[i + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        yh[i + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

}  // namespace stemma::quant
