#pragma once
// JavaScript's view of JSON and strings, so that the mock model reproduces the reference
// implementation (shared/peer/mock-llm.mjs, Node) byte for byte: it hashes and measures
// JSON.stringify output, and splits text by UTF-16 code units.
//
// Strings here are UTF-8. A lone UTF-16 surrogate (what JavaScript gets when a split falls
// inside a surrogate pair) is carried as its 3-byte WTF-8 form (ED A0..BF xx); JsStringify
// writes it as "\udxxx", exactly as JSON.stringify does.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace agentd::mock {

// JSON.stringify(v): compact; object keys that are array indices first (ascending), then the
// rest in insertion order; numbers as Number.prototype.toString; only `"`, `\` and control
// characters escaped (lowercase \u00xx), plus lone surrogates.
std::string JsStringify(const boost::json::value& v);

// Number.prototype.toString(10) for finite doubles ("1e+21", "1e-7", "0.1", "-0" -> "0").
std::string JsNumberToString(double d);

// String(v) as JavaScript would print a JSON value that is not a string (numbers, booleans,
// null -> "null", objects -> "[object Object]", arrays -> elements joined by ",").
std::string JsToString(const boost::json::value& v);

// `.length` of the string in JavaScript: UTF-16 code units.
std::size_t Utf16Length(std::string_view utf8);

// The reference's split(text, n): pieces of ceil(len/min(n,len)) UTF-16 units ([""] for "").
// With `keep_pairs` a piece never ends inside a surrogate pair (the pair moves whole into the
// earlier piece, so every piece is valid UTF-8); without it the halves are WTF-8, as on the
// reference's wire.
std::vector<std::string> SplitUtf16(std::string_view utf8, std::size_t n, bool keep_pairs);

// JavaScript's regex \b semantics on ASCII word characters: true when `word` occurs in
// `text` (ASCII case-insensitive) with a non-word character or an edge on both sides.
bool ContainsWholeWord(std::string_view text, std::string_view word);

}  // namespace agentd::mock
