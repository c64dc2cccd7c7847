#include "mock/js_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace agentd::mock {
namespace {

namespace json = boost::json;

// One decoded character: its bytes in the UTF-8 input and how many UTF-16 units it is.
struct Char {
  std::size_t offset;
  std::size_t size;
  std::uint32_t code_point;
  int units;
};

std::vector<Char> Decode(std::string_view s) {
  std::vector<Char> out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
    if (i + len > s.size()) len = 1;
    std::uint32_t cp = b;
    if (len == 2) cp = b & 0x1F;
    if (len == 3) cp = b & 0x0F;
    if (len == 4) cp = b & 0x07;
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back({i, len, cp, cp >= 0x10000 ? 2 : 1});
    i += len;
  }
  return out;
}

void AppendWtf8(std::string& out, std::uint32_t unit) {
  out.push_back(static_cast<char>(0xE0 | (unit >> 12)));
  out.push_back(static_cast<char>(0x80 | ((unit >> 6) & 0x3F)));
  out.push_back(static_cast<char>(0x80 | (unit & 0x3F)));
}

constexpr char kHex[] = "0123456789abcdef";

void AppendUnitEscape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(unit >> shift) & 0xF]);
}

void AppendString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (c < 0x20) {
      AppendUnitEscape(out, c);
      continue;
    }
    // A WTF-8 surrogate (ED A0..BF xx) is a lone surrogate: JSON.stringify escapes it.
    if (c == 0xED && i + 2 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xE0) == 0xA0) {
      const std::uint32_t unit = 0xD000 | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
                                 (static_cast<unsigned char>(s[i + 2]) & 0x3F);
      AppendUnitEscape(out, unit);
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  out.push_back('"');
}

// ECMAScript "array index": canonical decimal integer in [0, 2^32 - 2]. Such keys come first.
std::optional<std::uint64_t> ArrayIndex(std::string_view key) {
  if (key.empty() || key.size() > 10) return std::nullopt;
  if (key.size() > 1 && key[0] == '0') return std::nullopt;
  std::uint64_t v = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 4294967294ULL) return std::nullopt;
  return v;
}

double AsDouble(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

void Append(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; return;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      const double d = AsDouble(v);
      out += std::isfinite(d) ? JsNumberToString(d) : "null";
      return;
    }
    case json::kind::string: AppendString(out, v.get_string()); return;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Append(out, e);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<std::pair<std::uint64_t, const json::key_value_pair*>> indices;
      for (const auto& kv : obj) {
        if (auto idx = ArrayIndex(kv.key())) indices.emplace_back(*idx, &kv);
      }
      std::sort(indices.begin(), indices.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('{');
      bool first = true;
      auto member = [&](const json::key_value_pair& kv) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(out, kv.key());
        out.push_back(':');
        Append(out, kv.value());
      };
      for (const auto& [idx, kv] : indices) member(*kv);
      for (const auto& kv : obj) {
        if (!ArrayIndex(kv.key())) member(kv);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string JsNumberToString(double d) {
  if (std::isnan(d)) return "NaN";
  if (d == 0) return "0";  // also -0
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  std::string out;
  if (d < 0) {
    out.push_back('-');
    d = -d;
  }
  // Shortest round-trip digits, then ECMAScript's layout rules (Number::toString step 5-10).
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  const auto e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exp10 = 0;
  std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exp10);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(n));
    out.push_back('.');
    out += digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out += digits.substr(1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string JsStringify(const json::value& v) {
  std::string out;
  Append(out, v);
  return out;
}

std::string JsToString(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return v.get_bool() ? "true" : "false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return JsNumberToString(AsDouble(v));
    case json::kind::string: return std::string(v.get_string());
    case json::kind::array: {
      // Array.prototype.join: null elements print as "".
      std::string out;
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        if (!e.is_null()) out += JsToString(e);
      }
      return out;
    }
    case json::kind::object: return "[object Object]";
  }
  return "";
}

std::size_t Utf16Length(std::string_view utf8) {
  std::size_t units = 0;
  for (const auto& c : Decode(utf8)) units += static_cast<std::size_t>(c.units);
  return units;
}

std::vector<std::string> SplitUtf16(std::string_view utf8, std::size_t n, bool keep_pairs) {
  const auto chars = Decode(utf8);
  std::size_t length = 0;
  for (const auto& c : chars) length += static_cast<std::size_t>(c.units);
  if (length == 0) return {""};
  const std::size_t k = std::min(std::max<std::size_t>(n, 1), length);
  const std::size_t size = (length + k - 1) / k;
  const std::size_t count = (length + size - 1) / size;
  std::vector<std::string> pieces(count);
  std::size_t unit = 0;  // index of the character's first UTF-16 unit
  for (const auto& c : chars) {
    const std::size_t piece = unit / size;
    const bool straddles = c.units == 2 && (unit + 1) / size != piece;
    if (straddles && !keep_pairs) {
      const std::uint32_t v = c.code_point - 0x10000;
      AppendWtf8(pieces[piece], 0xD800 + (v >> 10));
      AppendWtf8(pieces[piece + 1], 0xDC00 + (v & 0x3FF));
    } else {
      pieces[piece].append(utf8.substr(c.offset, c.size));
    }
    unit += static_cast<std::size_t>(c.units);
  }
  return pieces;
}

bool ContainsWholeWord(std::string_view text, std::string_view word) {
  auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  if (word.empty() || text.size() < word.size()) return false;
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (i > 0 && is_word(text[i - 1])) continue;
    const std::size_t end = i + word.size();
    if (end < text.size() && is_word(text[end])) continue;
    bool equal = true;
    for (std::size_t j = 0; j < word.size() && equal; ++j) equal = lower(text[i + j]) == lower(word[j]);
    if (equal) return true;
  }
  return false;
}

}  // namespace agentd::mock
