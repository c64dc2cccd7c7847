#include "loadgen/sse.hpp"

namespace agentd::loadgen {

void SseDecoder::Feed(std::string_view bytes) {
  for (char c : bytes) {
    if (c == '\n' && last_was_cr_) {  // the LF of a CRLF already ended the line
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      Line(line_);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
}

void SseDecoder::Line(std::string_view line) {
  if (line.empty()) {
    if (has_field_) {
      ++events_;
      on_event_(name_.empty() ? std::string_view("message") : std::string_view(name_), data_);
    }
    name_.clear();
    data_.clear();
    has_field_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment / heartbeat
  auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "event") {
    name_.assign(value);
    has_field_ = true;
  } else if (field == "data") {
    data_.append(value);  // the SDKs concatenate multi-line data with no separator
    has_field_ = true;
  }
}

}  // namespace agentd::loadgen
