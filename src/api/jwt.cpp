#include "api/jwt.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include <boost/json/parse.hpp>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

namespace agentd::api {
namespace {

namespace json = boost::json;

JwtOutcome Refuse(std::string reason, std::string description) {
  JwtOutcome out;
  out.refusal = {std::move(reason), std::move(description)};
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<json::object> DecodeJsonPart(std::string_view part) {
  std::string text;
  if (!Base64UrlDecode(part, &text)) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::optional<std::int64_t> NumericDate(const json::object& claims, std::string_view name, bool* bad) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), INT64_MAX));
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  *bad = true;
  return std::nullopt;
}

bool AudienceMatches(const json::value* aud, std::string_view expected) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->get_string() == expected;
  if (aud->is_array()) {
    for (const auto& a : aud->get_array()) {
      if (a.is_string() && a.get_string() == expected) return true;
    }
  }
  return false;
}

// JOSE ES256 signature (32-byte r || 32-byte s) as the DER ECDSA-Sig-Value OpenSSL verifies.
bool JoseToDer(std::string_view sig, std::string* der) {
  if (sig.size() != 64) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* s = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(p, 32, nullptr);
  BIGNUM* ss = BN_bin2bn(p + 32, 32, nullptr);
  if (s == nullptr || r == nullptr || ss == nullptr || ECDSA_SIG_set0(s, r, ss) != 1) {
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return false;
  }
  const int len = i2d_ECDSA_SIG(s, nullptr);
  bool ok = len > 0;
  if (ok) {
    der->resize(static_cast<std::size_t>(len));
    auto* out = reinterpret_cast<unsigned char*>(der->data());
    ok = i2d_ECDSA_SIG(s, &out) == len;
  }
  ECDSA_SIG_free(s);
  return ok;
}

}  // namespace

struct JwtVerifier::Key {
  EVP_PKEY* pkey = nullptr;
  std::string alg;  // RS256 or ES256
  ~Key() { EVP_PKEY_free(pkey); }
};

bool Base64UrlDecode(std::string_view in, std::string* out) {
  out->clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out->reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Base64Value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

std::string Base64UrlEncode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Make(const config::JwtSettings& settings) {
  std::unique_ptr<JwtVerifier> v(new JwtVerifier(settings));
  if (!settings.public_key_file.empty()) {
    std::FILE* f = std::fopen(settings.public_key_file.c_str(), "rb");
    if (f == nullptr) return MakeError(Errc::kInvalidArgument, "auth.jwt.public_key_file: cannot read");
    auto key = std::make_unique<Key>();
    key->pkey = PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (key->pkey == nullptr) {
      return MakeError(Errc::kInvalidArgument, "auth.jwt.public_key_file: not a PEM public key");
    }
    const int type = EVP_PKEY_base_id(key->pkey);
    if (type == EVP_PKEY_RSA) {
      key->alg = "RS256";
    } else if (type == EVP_PKEY_EC && EVP_PKEY_get_bits(key->pkey) == 256) {
      key->alg = "ES256";
    } else {
      return MakeError(Errc::kInvalidArgument,
                       "auth.jwt.public_key_file: expected an RSA or P-256 EC public key");
    }
    v->key_ = std::move(key);
  }
  return v;
}

JwtVerifier::JwtVerifier(const config::JwtSettings& settings) : settings_(settings) {}
JwtVerifier::~JwtVerifier() = default;

bool JwtVerifier::enabled() const { return !settings_.hs256_secret.empty() || key_ != nullptr; }

JwtOutcome JwtVerifier::Verify(std::string_view token, std::int64_t now) const {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Refuse("malformed", "malformed token");
  }
  const std::string_view signed_part = token.substr(0, dot2);
  auto header = DecodeJsonPart(token.substr(0, dot1));
  auto claims = DecodeJsonPart(token.substr(dot1 + 1, dot2 - dot1 - 1));
  std::string signature;
  if (!header || !claims || !Base64UrlDecode(token.substr(dot2 + 1), &signature)) {
    return Refuse("malformed", "malformed token");
  }
  // RFC 7515 4.1.11: a recipient must refuse a token whose `crit` names an extension it does
  // not process. agentd processes none, so any `crit` (well-formed or not) is refused, before
  // the signature: an extension such as RFC 7797's b64 changes what was signed. The names are
  // not echoed: they come from the token and the description goes into a response header.
  if (header->contains("crit")) {
    return Refuse("crit_unsupported",
                  "token header lists critical extensions (crit) that are not supported");
  }
  const json::value* alg_value = header->if_contains("alg");
  const std::string alg = alg_value && alg_value->is_string() ? std::string(alg_value->get_string()) : "";

  bool verified = false;
  if (alg == "HS256" && !settings_.hs256_secret.empty()) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), settings_.hs256_secret.data(), static_cast<int>(settings_.hs256_secret.size()),
         reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac, &mac_len);
    verified = signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
  } else if (key_ != nullptr && alg == key_->alg) {
    std::string der;
    const std::string* sig = &signature;
    if (alg == "ES256") {
      if (!JoseToDer(signature, &der)) return Refuse("bad_signature", "invalid signature");
      sig = &der;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    verified = ctx != nullptr &&
               EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
               EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                                reinterpret_cast<const unsigned char*>(signed_part.data()),
                                signed_part.size()) == 1;
    EVP_MD_CTX_free(ctx);
  } else {
    return Refuse("alg_not_allowed", "signing algorithm not accepted");
  }
  if (!verified) return Refuse("bad_signature", "invalid signature");

  const std::int64_t leeway = settings_.leeway.count();
  bool bad = false;
  const auto exp = NumericDate(*claims, "exp", &bad);
  const auto nbf = NumericDate(*claims, "nbf", &bad);
  if (bad) return Refuse("malformed", "exp and nbf must be numbers");
  // A token without exp would never expire: refused unless auth.jwt.require_exp is off.
  if (!exp && settings_.require_exp) return Refuse("missing_exp", "token has no exp claim");
  if (exp && now > *exp + leeway) return Refuse("expired", "token expired");
  if (nbf && now + leeway < *nbf) return Refuse("not_yet_valid", "token not yet valid");
  if (!settings_.audience.empty() && !AudienceMatches(claims->if_contains("aud"), settings_.audience)) {
    return Refuse("wrong_audience", "wrong audience");
  }
  if (!settings_.issuer.empty()) {
    const json::value* iss = claims->if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != settings_.issuer) {
      return Refuse("wrong_issuer", "wrong issuer");
    }
  }
  JwtOutcome out;
  out.ok = true;
  out.claims = std::move(*claims);
  return out;
}

}  // namespace agentd::api
