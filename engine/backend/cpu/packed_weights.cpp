#include "engine/backend/cpu/packed_weights.h"

#include <cstring>
#include <new>

#include "engine/backend/cpu/quant_formats.h"

namespace stemma::cpu {
namespace {

constexpr std::align_val_t kAlign{64};

void put_f16(uint8_t* p, uint16_t h) {
  std::memcpy(p, &h, 2);
}

// One GGML Q4_K super-block as plain arrays: q[256] in 0..15 (element order), 8 scales, 8 mins.
void decode_q4_k(const BlockQ4_K& b, uint8_t* q, uint8_t* sc, uint8_t* mn) {
  for (int s = 0; s < 8; ++s) q4k_scale_min(s, b.scales, &sc[s], &mn[s]);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = b.qs[32 * c + l] & 15;
      q[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
  }
}

// One GGML Q6_K super-block: q[256] in 0..63 (element order; the weight is d * sc[e / 16] *
// (q[e] - 32)).
void decode_q6_k(const BlockQ6_K& b, uint8_t* q) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    uint8_t* o = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      o[l] = static_cast<uint8_t>((ql[l] & 15) | ((qh[l] & 3) << 4));
      o[l + 32] = static_cast<uint8_t>((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4));
      o[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
      o[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
    }
  }
}

void pack_q8_0_panel(const uint8_t* data, size_t stride, int64_t r0, int64_t nrows, int64_t cols,
                     uint8_t* out) {
  const int64_t nb = cols / 32;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* unit = out + static_cast<size_t>(b / 2) * kQ8_0PairBytes;
    uint8_t* qs = unit + static_cast<size_t>(b % 2) * 512;
    uint8_t* d = unit + 1024 + static_cast<size_t>(b % 2) * 32;
    for (int64_t r = 0; r < kPanelRows; ++r) {
      if (r >= nrows) {
        for (int kg = 0; kg < 8; ++kg) std::memset(qs + kg * 64 + r * 4, 128, 4);
        put_f16(d + 2 * r, 0);
        continue;
      }
      const auto& blk =
          reinterpret_cast<const BlockQ8_0*>(data + static_cast<size_t>(r0 + r) * stride)[b];
      for (int kg = 0; kg < 8; ++kg)
        for (int i = 0; i < 4; ++i)
          qs[kg * 64 + r * 4 + i] = static_cast<uint8_t>(blk.qs[4 * kg + i] + 128);
      put_f16(d + 2 * r, blk.d);
    }
  }
  if (nb % 2 == 1) {  // the zero second block of the last pair
    uint8_t* unit = out + static_cast<size_t>(nb / 2) * kQ8_0PairBytes;
    std::memset(unit + 512, 128, 512);
    std::memset(unit + 1024 + 32, 0, 32);
  }
}

void pack_q4_k_panel(const uint8_t* data, size_t stride, int64_t r0, int64_t nrows, int64_t cols,
                     uint8_t* out) {
  const int64_t nb = cols / 256;
  uint8_t q[256], sc[8], mn[8];
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* unit = out + static_cast<size_t>(b) * kQ4_KBlockBytes;
    uint8_t* scales = unit + 2048;
    uint8_t* mins = unit + 2048 + 128;
    uint8_t* d = unit + 2048 + 256;
    uint8_t* dmin = d + 32;
    for (int64_t r = 0; r < kPanelRows; ++r) {
      uint16_t dr = 0, dminr = 0;
      if (r < nrows) {
        const auto& blk =
            reinterpret_cast<const BlockQ4_K*>(data + static_cast<size_t>(r0 + r) * stride)[b];
        decode_q4_k(blk, q, sc, mn);
        dr = blk.d;
        dminr = blk.dmin;
      } else {
        std::memset(q, 0, sizeof(q));
        std::memset(sc, 0, sizeof(sc));
        std::memset(mn, 0, sizeof(mn));
      }
      for (int s = 0; s < 8; ++s) {
        for (int j = 0; j < 4; ++j) {
          uint8_t* v = unit + (s * 4 + j) * 64 + r * 4;
          for (int i = 0; i < 4; ++i) {
            const int lo = q[32 * s + 8 * j + i], hi = q[32 * s + 8 * j + 4 + i];
            v[i] = static_cast<uint8_t>(lo | (hi << 4));
          }
        }
        scales[s * 16 + r] = sc[s];
        mins[s * 16 + r] = mn[s];
      }
      put_f16(d + 2 * r, dr);
      put_f16(dmin + 2 * r, dminr);
    }
  }
}

void pack_q6_k_panel(const uint8_t* data, size_t stride, int64_t r0, int64_t nrows, int64_t cols,
                     uint8_t* out) {
  const int64_t nb = cols / 256;
  uint8_t q[256];
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* unit = out + static_cast<size_t>(b) * kQ6_KBlockBytes;
    auto* pairs = reinterpret_cast<int8_t*>(unit + 3072);
    uint8_t* d = unit + 3072 + 256;
    std::memset(d + 32, 0, 32);
    for (int64_t r = 0; r < kPanelRows; ++r) {
      int8_t sc[16] = {};
      uint16_t dr = 0;
      if (r < nrows) {
        const auto& blk =
            reinterpret_cast<const BlockQ6_K*>(data + static_cast<size_t>(r0 + r) * stride)[b];
        decode_q6_k(blk, q);
        std::memcpy(sc, blk.scales, 16);
        dr = blk.d;
      } else {
        std::memset(q, 32, sizeof(q));  // q - 32 = 0
      }
      for (int g = 0; g < 16; ++g) {
        uint8_t* a = unit + g * 192 + r * 4;
        uint8_t* bv = a + 64;
        uint8_t* h = a + 128;
        for (int i = 0; i < 4; ++i) {
          const uint8_t* e = q + 16 * g + i;  // k-group kg is e[4 * kg]
          a[i] = static_cast<uint8_t>((e[0] & 15) | ((e[4] & 15) << 4));
          bv[i] = static_cast<uint8_t>((e[8] & 15) | ((e[12] & 15) << 4));
          h[i] = static_cast<uint8_t>((e[0] >> 4) | ((e[4] >> 4) << 2) | ((e[8] >> 4) << 4) |
                                      ((e[12] >> 4) << 6));
        }
      }
      for (int p = 0; p < 8; ++p) {
        pairs[p * 32 + 2 * r] = sc[2 * p];
        pairs[p * 32 + 2 * r + 1] = sc[2 * p + 1];
      }
      put_f16(d + 2 * r, dr);
    }
  }
}

}  // namespace

PackedFormat packed_format(DType dtype) {
  switch (dtype) {
    case DType::kQ8_0:
      return PackedFormat::kQ8_0;
    case DType::kQ4_K:
      return PackedFormat::kQ4_K;
    case DType::kQ6_K:
      return PackedFormat::kQ6_K;
    default:
      return PackedFormat::kNone;
  }
}

size_t packed_panel_bytes(PackedFormat format, int64_t cols) {
  switch (format) {
    case PackedFormat::kQ8_0:
      return static_cast<size_t>((cols / 32 + 1) / 2) * kQ8_0PairBytes;
    case PackedFormat::kQ4_K:
      return static_cast<size_t>(cols / 256) * kQ4_KBlockBytes;
    case PackedFormat::kQ6_K:
      return static_cast<size_t>(cols / 256) * kQ6_KBlockBytes;
    case PackedFormat::kNone:
      break;
  }
  return 0;
}

PackedMatrix::~PackedMatrix() {
  if (data != nullptr) ::operator delete(const_cast<uint8_t*>(data), kAlign);
}

std::shared_ptr<const PackedMatrix> pack_matrix(DType dtype, const uint8_t* data, size_t row_stride,
                                                int64_t rows, int64_t cols) {
  const PackedFormat format = packed_format(dtype);
  if (format == PackedFormat::kNone || rows <= 0 || cols <= 0) return nullptr;
  auto m = std::make_shared<PackedMatrix>();
  m->format = format;
  m->rows = rows;
  m->cols = cols;
  m->panels = (rows + kPanelRows - 1) / kPanelRows;
  m->panel_bytes = packed_panel_bytes(format, cols);
  const size_t total = m->panel_bytes * static_cast<size_t>(m->panels);
  auto* out = static_cast<uint8_t*>(::operator new(total, kAlign));
  m->data = out;
  for (int64_t p = 0; p < m->panels; ++p) {
    const int64_t r0 = p * kPanelRows;
    const int64_t n = rows - r0 < kPanelRows ? rows - r0 : kPanelRows;
    uint8_t* dst = out + static_cast<size_t>(p) * m->panel_bytes;
    switch (format) {
      case PackedFormat::kQ8_0:
        pack_q8_0_panel(data, row_stride, r0, n, cols, dst);
        break;
      case PackedFormat::kQ4_K:
        pack_q4_k_panel(data, row_stride, r0, n, cols, dst);
        break;
      case PackedFormat::kQ6_K:
        pack_q6_k_panel(data, row_stride, r0, n, cols, dst);
        break;
      case PackedFormat::kNone:
        break;
    }
  }
  return m;
}

}  // namespace stemma::cpu
