#pragma once
// An incremental SSE decoder: feed it body bytes as they arrive (any split), it reports each
// complete event (name, joined data). Accepts LF, CRLF and CR line ends; comment lines and
// ids are skipped. Plain function of its input, so it is unit-tested without sockets.

#include <functional>
#include <string>
#include <string_view>

namespace agentd::loadgen {

class SseDecoder {
 public:
  using OnEvent = std::function<void(std::string_view name, std::string_view data)>;
  explicit SseDecoder(OnEvent on_event) : on_event_(std::move(on_event)) {}

  void Feed(std::string_view bytes);
  std::size_t events() const { return events_; }

 private:
  void Line(std::string_view line);

  OnEvent on_event_;
  std::string line_;
  std::string name_;
  std::string data_;
  bool has_field_ = false;
  bool last_was_cr_ = false;
  std::size_t events_ = 0;
};

}  // namespace agentd::loadgen
