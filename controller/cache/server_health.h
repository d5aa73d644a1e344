// Whether one API server has been answering, shared by the informers of that server (one per
// remote cluster). Two uses:
//  - a server that stopped answering never holds a shared pool worker: while it is suspect,
//    informers send a cheap non-blocking probe before a blocking LIST (or a watch);
//  - during an outage only one informer per server (the prober) retries at the short outage
//    cadence; the others back off normally and are woken as soon as the server answers, so a
//    fleet of dead clusters costs one probe per cluster every few seconds, not one per informer.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace rio::cache {

/// Thread-safety: thread-safe (one mutex); wake-ups run on the caller of answered(), outside the
/// lock, and must only post work elsewhere.
class ServerHealth {
 public:
  /// The server answered something (any HTTP status, a watch event): it is reachable. Clears the
  /// prober and calls every registered wake-up once.
  void answered();
  /// A request got no answer (connection refused/reset, timeout). The first after an answer calls
  /// the onSuspect listener (outside the lock).
  void noAnswer();
  /// `listener` is called each time the server turns suspect (replaces an earlier one). It must
  /// only post work elsewhere. Used by the owner of the server's reachability probe, which can then
  /// probe at once rather than on its (long) idle cadence.
  void onSuspect(std::function<void()> listener);
  /// True after a no-answer failure until the server answers again.
  bool suspect() const;
  /// For a watcher whose attempt got no answer: true when it is (or becomes) the server's prober
  /// and should retry at the short outage cadence; false when another watcher probes, in which
  /// case `wake` is called once the server answers (replacing an earlier wake-up of `who`).
  bool proberOrWait(const void* who, std::function<void()> wake);
  /// `who` stops: gives up the prober role and its wake-up.
  void leave(const void* who);

 private:
  mutable std::mutex mu_;  // guards everything below
  bool suspect_ = false;
  const void* prober_ = nullptr;
  std::map<const void*, std::function<void()>> waiters_;
  std::function<void()> onSuspect_;
};
using ServerHealthPtr = std::shared_ptr<ServerHealth>;

}  // namespace rio::cache
