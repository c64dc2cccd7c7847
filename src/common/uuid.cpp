#include "common/uuid.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>

#include <openssl/sha.h>

#include "common/time.hpp"

namespace agentd {
namespace {

std::string Format(const std::array<std::uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

void FillRandom(std::uint8_t* out, size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (size_t i = 0; i < n; i += 8) {
    std::uint64_t r = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsUuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return false;
    } else if (HexValue(t[i]) < 0) {
      return false;
    }
  }
  return true;
}

std::string NewUuid4() {
  std::array<std::uint8_t, 16> b;
  FillRandom(b.data(), b.size());
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return Format(b);
}

std::string NewUuid7() {
  // 48-bit ms timestamp + 12-bit counter (rand_a) keeps ids monotonic inside a millisecond.
  static std::mutex mu;
  static std::int64_t last_ms = 0;
  static std::uint16_t counter = 0;
  std::int64_t ms;
  std::uint16_t seq;
  {
    std::lock_guard lock(mu);
    ms = NowMs();
    if (ms <= last_ms) {
      ms = last_ms;
      if (++counter > 0x0fff) {  // counter exhausted: borrow the next millisecond
        ++ms;
        counter = 0;
      }
    } else {
      counter = 0;
    }
    last_ms = ms;
    seq = counter;
  }
  std::array<std::uint8_t, 16> b;
  FillRandom(b.data(), b.size());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  b[6] = static_cast<std::uint8_t>(0x70 | ((seq >> 8) & 0x0f));
  b[7] = static_cast<std::uint8_t>(seq & 0xff);
  b[8] = (b[8] & 0x3f) | 0x80;
  return Format(b);
}

std::string Uuid5(std::string_view ns, std::string_view name) {
  std::string input;
  input.reserve(16 + name.size());
  for (size_t i = 0; i < ns.size(); ++i) {
    if (ns[i] == '-') continue;
    int hi = HexValue(ns[i]), lo = HexValue(ns[i + 1]);
    input.push_back(static_cast<char>((hi << 4) | lo));
    ++i;
  }
  input.append(name);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  std::array<std::uint8_t, 16> b;
  for (int i = 0; i < 16; ++i) b[i] = digest[i];
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  return Format(b);
}

}  // namespace agentd
