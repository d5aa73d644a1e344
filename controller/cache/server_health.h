// Whether one API server has been answering, shared by the informers of that server (one per
// remote cluster). Used so that a server that stopped answering never holds a shared pool worker:
// while it is suspect, informers send a cheap non-blocking probe before a blocking LIST.
#pragma once

#include <atomic>
#include <memory>

namespace rio::cache {

/// Thread-safety: thread-safe (one atomic).
class ServerHealth {
 public:
  /// The server answered something (any HTTP status, a watch event): it is reachable.
  void answered() { suspect_.store(false); }
  /// A request got no answer (connection refused/reset, timeout).
  void noAnswer() { suspect_.store(true); }
  /// True after a no-answer failure until the server answers again.
  bool suspect() const { return suspect_.load(); }

 private:
  std::atomic<bool> suspect_{false};
};
using ServerHealthPtr = std::shared_ptr<ServerHealth>;

}  // namespace rio::cache
