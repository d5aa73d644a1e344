#include "controller/leader/leader_elector.h"

#include <unistd.h>

#include <cstdio>
#include <random>

#include <prometheus/gauge.h>

namespace rio::leader {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

std::string ms(milliseconds d) { return std::to_string(d.count()) + "ms"; }

}  // namespace

std::string_view toString(ElectorState state) {
  switch (state) {
    case ElectorState::kIdle:
      return "Idle";
    case ElectorState::kCandidate:
      return "Candidate";
    case ElectorState::kLeading:
      return "Leading";
    case ElectorState::kLost:
      return "Lost";
    case ElectorState::kStopped:
      return "Stopped";
  }
  return "Idle";
}

Expected<void> validate(const LeaderElectionOptions& o) {
  if (o.name.empty()) return fail(Error::config("leader election: the lease name is empty"));
  if (o.identity.empty()) return fail(Error::config("leader election: the identity is empty"));
  if (o.retryPeriod.count() <= 0) {
    return fail(
        Error::config("leader election: retry period must be positive, got " + ms(o.retryPeriod)));
  }
  if (o.leaseDuration < std::chrono::seconds(1)) {
    return fail(Error::config("leader election: lease duration must be at least 1s, got " +
                              ms(o.leaseDuration)));
  }
  if (o.leaseDuration <= o.renewDeadline) {
    return fail(Error::config("leader election: lease duration (" + ms(o.leaseDuration) +
                              ") must be greater than the renew deadline (" + ms(o.renewDeadline) +
                              ")"));
  }
  if (static_cast<double>(o.renewDeadline.count()) <=
      1.2 * static_cast<double>(o.retryPeriod.count())) {
    return fail(Error::config("leader election: renew deadline (" + ms(o.renewDeadline) +
                              ") must be greater than 1.2 x the retry period (" +
                              ms(o.retryPeriod) + ")"));
  }
  if (o.retryJitter < 0 || o.retryJitter >= 1) {
    return fail(Error::config("leader election: retry jitter must be in [0, 1)"));
  }
  return {};
}

std::string defaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "unknown");
  std::random_device rd;
  std::uniform_int_distribution<unsigned> byte(0, 255);
  unsigned char b[16];
  for (auto& x : b) x = static_cast<unsigned char>(byte(rd));
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char uuid[37];
  std::snprintf(uuid, sizeof uuid,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return std::string(host) + "_" + uuid;
}

Expected<std::shared_ptr<LeaderElector>> LeaderElector::create(LeaseLockPtr lock,
                                                               runtime::ExecutorPtr executor,
                                                               LeaderElectionOptions options,
                                                               LeaderCallbacks callbacks) {
  if (auto ok = validate(options); !ok) return fail(ok.error());
  if (!lock || !executor)
    return fail(Error::invalid("leader election: lock and executor are required"));
  return std::shared_ptr<LeaderElector>(new LeaderElector(
      std::move(lock), std::move(executor), std::move(options), std::move(callbacks)));
}

LeaderElector::LeaderElector(LeaseLockPtr lock, runtime::ExecutorPtr executor,
                             LeaderElectionOptions options, LeaderCallbacks callbacks)
    : lock_(std::move(lock)),
      executor_(std::move(executor)),
      strand_(runtime::SerialExecutor::create(executor_)),
      clock_(executor_->clock()),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      logger_(
          options_.logger.with({{"lease", lock_->describe()}, {"identity", options_.identity}})),
      random_(options_.random ? options_.random : defaultRandom()) {
  if (options_.metrics) {
    gauge_ = &options_.metrics->forName(options_.name);
    gauge_->Set(0);
  }
}

LeaderElector::~LeaderElector() {
  std::lock_guard lock(mu_);
  if (next_) next_->cancel();
  if (watchdog_) watchdog_->cancel();
}

void LeaderElector::start() {
  {
    std::lock_guard lock(mu_);
    if (state_ != ElectorState::kIdle) return;
    state_ = ElectorState::kCandidate;
  }
  logger_.info("attempting to acquire leader lease");
  std::weak_ptr<LeaderElector> weak = weak_from_this();
  strand_->post([weak] {
    if (auto self = weak.lock()) self->attempt();
  });
}

bool LeaderElector::isLeader() const {
  std::lock_guard lock(mu_);
  return state_ == ElectorState::kLeading;
}

ElectorState LeaderElector::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::string LeaderElector::observedLeader() const {
  std::lock_guard lock(mu_);
  return observedLeader_;
}

void LeaderElector::setGauge(double value) {
  if (gauge_) gauge_->Set(value);
}

void LeaderElector::scheduleAttemptLocked(nanoseconds delay) {
  std::weak_ptr<LeaderElector> weak = weak_from_this();
  next_ = strand_->postAfter(delay, [weak] {
    if (auto self = weak.lock()) self->attempt();
  });
}

void LeaderElector::scheduleRenewCycleLocked() {
  // A new renew cycle starts one retryPeriod after the last success (client-go's wait.Until);
  // it fails when no attempt succeeded renewDeadline after it started.
  SteadyTime start = clock_->now() + duration_cast<SteadyTime::duration>(options_.retryPeriod);
  std::uint64_t cycle = ++cycle_;
  if (watchdog_) watchdog_->cancel();
  std::weak_ptr<LeaderElector> weak = weak_from_this();
  watchdog_ = executor_->postAt(start + duration_cast<SteadyTime::duration>(options_.renewDeadline),
                                [weak, cycle] {
                                  if (auto self = weak.lock()) self->onWatchdog(cycle);
                                });
  next_ = strand_->postAt(start, [weak] {
    if (auto self = weak.lock()) self->attempt();
  });
}

void LeaderElector::onWatchdog(std::uint64_t cycle) {
  {
    std::lock_guard lock(mu_);
    if (state_ != ElectorState::kLeading || cycle != cycle_) return;
    state_ = ElectorState::kLost;
    if (next_) next_->cancel();
  }
  setGauge(0);
  logger_.error("leader election lost: the lease was not renewed within the renew deadline",
                {{"renew_deadline_ms", options_.renewDeadline.count()}});
  if (callbacks_.onLost) callbacks_.onLost();
}

void LeaderElector::attempt() {
  std::unique_lock call(callMu_);
  {
    std::lock_guard lock(mu_);
    if (state_ != ElectorState::kCandidate && state_ != ElectorState::kLeading) return;
  }
  const bool ok = tryAcquireOrRenew();
  const std::string holder = observedRecord_.holderIdentity;
  bool started = false;
  bool leaderChanged = false;
  {
    std::lock_guard lock(mu_);
    observedLeader_ = holder;
    if (!reportedAny_ || reportedLeader_ != holder) {
      reportedAny_ = true;
      reportedLeader_ = holder;
      leaderChanged = true;
    }
    if (state_ == ElectorState::kCandidate) {
      if (ok) {
        state_ = ElectorState::kLeading;
        started = true;
        scheduleRenewCycleLocked();
      } else {
        scheduleAttemptLocked(candidateDelayLocked());
      }
    } else if (state_ == ElectorState::kLeading) {
      if (ok) {
        scheduleRenewCycleLocked();
      } else {
        scheduleAttemptLocked(options_.retryPeriod);  // same cycle; the watchdog keeps its time
      }
    } else {
      leaderChanged = false;  // lost or stopped meanwhile: nothing more to report
    }
  }
  call.unlock();
  if (leaderChanged && callbacks_.onNewLeader) callbacks_.onNewLeader(holder);
  if (started && isLeader()) {  // not when stop() or the watchdog came in between
    setGauge(1);
    logger_.info("successfully acquired lease");
    if (callbacks_.onStartedLeading) callbacks_.onStartedLeading();
  }
}

nanoseconds LeaderElector::candidateDelayLocked() const {
  double factor = 1.0 - options_.retryJitter * random_();
  auto delay = duration_cast<nanoseconds>(options_.retryPeriod * factor);
  // Another holder's lease that expires before the next poll is tried the moment it expires,
  // not up to a retry period later: a dead leader's successor takes over leaseDuration after
  // the last renewal it saw.
  if (haveObserved_ && !observedRecord_.holderIdentity.empty() &&
      observedRecord_.holderIdentity != options_.identity) {
    auto expiry = observedTime_ + std::chrono::seconds(observedRecord_.leaseDurationSeconds);
    auto untilExpiry = duration_cast<nanoseconds>(expiry - clock_->now());
    // Already expired (the takeover itself failed): the usual poll, not a busy retry.
    if (untilExpiry > nanoseconds(0) && untilExpiry < delay) delay = untilExpiry;
  }
  return delay;
}

void LeaderElector::observe(const LeaderElectionRecord& record, SteadyTime now) {
  observedRecord_ = record;
  observedTime_ = now;
  haveObserved_ = true;
}

bool LeaderElector::tryAcquireOrRenew() {
  const SteadyTime now = clock_->now();
  const WallTime wall = clock_->wallNow();
  LeaderElectionRecord desired;
  desired.holderIdentity = options_.identity;
  desired.leaseDurationSeconds = static_cast<int>(
      std::chrono::duration_cast<std::chrono::seconds>(options_.leaseDuration).count());
  desired.acquireTime = wall;
  desired.renewTime = wall;

  auto old = lock_->get();
  if (!old) {
    if (!old.error().isNotFound()) {
      logger_.warn("error retrieving the lease", {{"error", old.error().message()}});
      return false;
    }
    if (auto created = lock_->create(desired); !created) {
      logger_.warn("error creating the lease", {{"error", created.error().message()}});
      return false;
    }
    observe(desired, now);
    return true;
  }

  // Expiry is measured from when this process saw the record change, on its own clock.
  if (!haveObserved_ || *old != observedRecord_) observe(*old, now);
  if (!old->holderIdentity.empty() && old->holderIdentity != options_.identity &&
      observedTime_ + std::chrono::seconds(old->leaseDurationSeconds) > now) {
    logger_.debug("the lease is held by another candidate and has not expired",
                  {{"holder", old->holderIdentity}});
    return false;
  }

  if (old->holderIdentity == options_.identity) {
    desired.acquireTime = old->acquireTime;
    desired.leaseTransitions = old->leaseTransitions;
  } else {
    desired.leaseTransitions = old->leaseTransitions + 1;
  }
  if (auto updated = lock_->update(desired); !updated) {
    logger_.warn("error updating the lease", {{"error", updated.error().message()}});
    return false;
  }
  observe(desired, now);
  return true;
}

void LeaderElector::release() {
  auto current = lock_->get();
  if (!current) {
    logger_.warn("could not release the lease: read failed",
                 {{"error", current.error().message()}});
    return;
  }
  if (*current != observedRecord_) observe(*current, clock_->now());
  if (current->holderIdentity != options_.identity) return;  // someone else's now
  LeaderElectionRecord released;
  released.leaseDurationSeconds = 1;
  released.acquireTime = clock_->wallNow();
  released.renewTime = released.acquireTime;
  released.leaseTransitions = current->leaseTransitions;
  if (auto updated = lock_->update(released); !updated) {
    logger_.warn("could not release the lease", {{"error", updated.error().message()}});
    return;
  }
  observe(released, clock_->now());
  logger_.info("released the lease");
}

void LeaderElector::stop() {
  {
    std::lock_guard lock(mu_);
    if (state_ == ElectorState::kStopped) return;
    state_ = ElectorState::kStopped;
    if (next_) next_->cancel();
    if (watchdog_) watchdog_->cancel();
  }
  setGauge(0);
  std::lock_guard call(callMu_);  // waits for an attempt in flight
  if (options_.releaseOnCancel && haveObserved_ &&
      observedRecord_.holderIdentity == options_.identity) {
    release();
  }
  std::lock_guard lock(mu_);
  observedLeader_ = observedRecord_.holderIdentity;
}

}  // namespace rio::leader
