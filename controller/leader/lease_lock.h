// The resource lock of leader election: one coordination.k8s.io/v1 Lease, read and written with
// client-go's field names and semantics (resourcelock.LeaseLock), with optimistic concurrency on
// resourceVersion.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/kube/client.h"

namespace rio::leader {

/// The Lease spec fields leader election uses (client-go's LeaderElectionRecord). Times are
/// written as metav1.MicroTime ("2026-01-01T00:00:00.000000Z").
struct LeaderElectionRecord {
  std::string holderIdentity;  // empty: nobody holds the lease (released)
  int leaseDurationSeconds = 0;
  std::optional<WallTime> acquireTime;
  std::optional<WallTime> renewTime;
  int leaseTransitions = 0;

  bool operator==(const LeaderElectionRecord&) const = default;
  /// The Lease `spec` object.
  nlohmann::json toLeaseSpec() const;
  /// From a Lease `spec` (missing or malformed fields read as empty/zero). Never throws.
  static LeaderElectionRecord fromLeaseSpec(const nlohmann::json& spec);
};

/// Get/create/update of one Lease. Blocking calls: never from an I/O thread.
/// Thread-safety: implementations are thread-safe; the elector calls them from one strand.
class LeaseLock {
 public:
  virtual ~LeaseLock() = default;
  /// Reads the lease and remembers its resourceVersion for update(). NotFound when absent.
  virtual Expected<LeaderElectionRecord> get() = 0;
  /// Creates the lease with `record` (AlreadyExists when someone was faster).
  virtual Expected<void> create(const LeaderElectionRecord& record) = 0;
  /// Replaces the spec of the lease last read or written, with its resourceVersion: 409 Conflict
  /// when someone wrote it since. Errors (kInternal) when nothing was read yet.
  virtual Expected<void> update(const LeaderElectionRecord& record) = 0;
  /// "namespace/name", for logs.
  virtual std::string describe() const = 0;
};
using LeaseLockPtr = std::shared_ptr<LeaseLock>;

/// The Lease lock over the REST client. `client` should have retries off and a request timeout
/// well below the renew deadline (the manager builds such a client): the elector retries itself.
class LeaseLockImpl final : public LeaseLock {
 public:
  LeaseLockImpl(kube::ClientPtr client, std::string ns, std::string name);

  Expected<LeaderElectionRecord> get() override;
  Expected<void> create(const LeaderElectionRecord& record) override;
  Expected<void> update(const LeaderElectionRecord& record) override;
  std::string describe() const override { return ns_ + "/" + name_; }

 private:
  const kube::ClientPtr client_;
  const std::string ns_;
  const std::string name_;
  std::mutex mu_;                        // guards lease_
  std::optional<nlohmann::json> lease_;  // the object last read or written
};

}  // namespace rio::leader
