#include "controller/cache/server_health.h"

#include <vector>

namespace rio::cache {

void ServerHealth::answered() {
  std::map<const void*, std::function<void()>> waiters;
  {
    std::lock_guard lock(mu_);
    suspect_ = false;
    prober_ = nullptr;
    waiters.swap(waiters_);
  }
  for (auto& [who, wake] : waiters) {
    if (wake) wake();
  }
}

void ServerHealth::noAnswer() {
  std::function<void()> listener;
  {
    std::lock_guard lock(mu_);
    if (!suspect_) listener = onSuspect_;
    suspect_ = true;
  }
  if (listener) listener();
}

void ServerHealth::onSuspect(std::function<void()> listener) {
  std::function<void()> previous;
  std::lock_guard lock(mu_);
  previous.swap(onSuspect_);  // destroyed after the lock is released
  onSuspect_ = std::move(listener);
}

bool ServerHealth::suspect() const {
  std::lock_guard lock(mu_);
  return suspect_;
}

bool ServerHealth::proberOrWait(const void* who, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (prober_ == nullptr || prober_ == who) {
    prober_ = who;
    waiters_.erase(who);
    return true;
  }
  waiters_[who] = std::move(wake);
  return false;
}

void ServerHealth::leave(const void* who) {
  std::function<void()> dropped;
  std::lock_guard lock(mu_);
  if (prober_ == who) prober_ = nullptr;
  if (auto it = waiters_.find(who); it != waiters_.end()) {
    dropped = std::move(it->second);
    waiters_.erase(it);
  }
}

}  // namespace rio::cache
