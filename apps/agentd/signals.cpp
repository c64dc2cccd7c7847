#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "commands.hpp"

namespace agentd::app {

struct TerminationSignals::State {
  boost::asio::io_context io;
  boost::asio::signal_set signals{io, SIGINT, SIGTERM};
};

TerminationSignals::TerminationSignals(bool catch_hangup) : state_(std::make_unique<State>()) {
  if (catch_hangup) state_->signals.add(SIGHUP);
}
TerminationSignals::~TerminationSignals() = default;

int TerminationSignals::Wait() {
  int received = 0;
  state_->signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (!ec) received = signal;
  });
  // Signals that came while nobody waited are queued by the signal_set: none is lost between
  // two Wait() calls.
  state_->io.restart();
  state_->io.run();
  return received;
}

}  // namespace agentd::app
