// Where each layer lives in the network's flat buffers (layer l: weight (out, in), then bias
// (out,)), planned with checked arithmetic, and how rows or units are shared out between threads.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace fastopt::nn {

struct Layer {
  int64_t in, out, weight, bias;  // widths; offsets of W and b in the flat buffers
};

// The GEMMs take 32-bit sizes (scipy-openblas32), so every width must fit one.
constexpr int64_t kMaxWidth = std::numeric_limits<int32_t>::max();

inline std::string sizes_str(const std::vector<int64_t>& sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

// "1.5 GiB": bytes in binary units.
inline std::string bytes_str(long double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  int u = 0;
  for (; bytes >= 1024 && u < 8; ++u) bytes /= 1024;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1Lf %s", bytes, units[u]);
  return buf;
}

// "sizes: ... would have N parameters, M for them and their gradients; <why>", for every refusal.
inline std::invalid_argument sizes_error(const std::vector<int64_t>& sizes, size_t elem_bytes, const std::string& why) {
  unsigned __int128 count = 0;  // widths < 2^63: each product < 2^126, so a few layers cannot overflow
  for (size_t l = 0; l + 1 < sizes.size(); ++l)
    count += static_cast<unsigned __int128>(sizes[l]) * static_cast<unsigned __int128>(sizes[l + 1]) +
             static_cast<unsigned __int128>(sizes[l + 1]);
  std::string digits;
  for (unsigned __int128 c = count; digits.empty() || c; c /= 10) digits.insert(digits.begin(), char('0' + int(c % 10)));
  return std::invalid_argument("sizes: " + sizes_str(sizes) + " would have " + digits + " parameters, " +
                               bytes_str(static_cast<long double>(count) * 2 * elem_bytes) +
                               " for them and their gradients (" + std::to_string(elem_bytes) + " bytes each); " + why);
}

// The layers of a network of widths `sizes`; std::invalid_argument (ValueError) when the widths
// are out of range or the parameter count overflows int64.  elem_bytes: for the message.
inline std::vector<Layer> plan_layers(const std::vector<int64_t>& sizes, size_t elem_bytes) {
  if (sizes.size() < 2) throw std::invalid_argument("sizes: need at least an input and an output width");
  for (int64_t s : sizes)
    if (s < 1) throw std::invalid_argument("sizes: every width must be >= 1, got " + sizes_str(sizes));
  for (int64_t s : sizes)
    if (s > kMaxWidth)
      throw sizes_error(sizes, elem_bytes, "widths above " + std::to_string(kMaxWidth) + " exceed BLAS's 32-bit sizes");
  std::vector<Layer> layers;
  int64_t offset = 0;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    const int64_t in = sizes[l], out = sizes[l + 1];
    int64_t weight_end, end;
    if (__builtin_mul_overflow(in, out, &weight_end) || __builtin_add_overflow(offset, weight_end, &weight_end) ||
        __builtin_add_overflow(weight_end, out, &end))
      throw sizes_error(sizes, elem_bytes, "more than 2^63 - 1 parameters cannot be addressed");
    layers.push_back({in, out, offset, weight_end});
    offset = end;
  }
  return layers;
}

struct Range {
  int64_t begin, end;
};

// Part k of n items shared out between parts as evenly as possible.
inline Range share(int64_t n, int64_t parts, int64_t k) {
  const int64_t q = n / parts, r = n % parts;
  const int64_t begin = k * q + std::min(k, r);
  return {begin, begin + q + (k < r ? 1 : 0)};
}

}  // namespace fastopt::nn
