// What the conformance suite runs against: an in-process kube-testenv cluster (the default) or
// any API server reached through a kubeconfig. Gives the cases our REST client with the admin
// credentials, clients with other credentials (service-account tokens, none), raw HTTP for
// requests the client never makes (malformed bodies, wrong content types), and — when the
// server is a kube-testenv — its admin endpoint and, in-process, its clock.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/core/io_runtime.h"
#include "controller/http/message.h"
#include "controller/kube/client.h"
#include "controller/kube/discovery.h"
#include "controller/kube/rest_config.h"
#include "test/testenv/testenv.h"

namespace rio::conformance {

/// The system clock with wall time shifted by an adjustable offset: lets the in-process
/// testenv's token authority see a token's expiry without waiting for it. Steady time is not
/// shifted (testenv uses it for latency accounting only), so the offset may go back to zero.
/// Thread-safe.
class OffsetClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override {
    return std::chrono::system_clock::now() +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               std::chrono::nanoseconds(offsetNs_.load()));
  }
  void advance(std::chrono::seconds by) { offsetNs_ += std::chrono::nanoseconds(by).count(); }
  /// Back to the real wall time (certificates issued meanwhile would not be valid yet).
  void reset() { offsetNs_ = 0; }

 private:
  std::atomic<std::int64_t> offsetNs_{0};
};

/// Which credentials a raw request carries.
struct RawAuth {
  enum class Mode { kAdmin, kNone, kToken } mode = Mode::kAdmin;
  std::string token;  // kToken
  static RawAuth admin() { return {}; }
  static RawAuth none() { return {Mode::kNone, {}}; }
  static RawAuth bearer(std::string t) { return {Mode::kToken, std::move(t)}; }
};

/// One raw HTTP request.
struct RawRequest {
  std::string method = "GET";
  std::string target;  // path and query, e.g. "/api/v1/namespaces/x/configmaps"
  std::string contentType;
  std::string body;
  std::string accept = "application/json";
  RawAuth auth;

  static RawRequest get(std::string target, RawAuth auth = RawAuth::admin()) {
    RawRequest r;
    r.target = std::move(target);
    r.auth = std::move(auth);
    return r;
  }
  static RawRequest send(std::string method, std::string target, std::string contentType,
                         std::string body) {
    RawRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.contentType = std::move(contentType);
    r.body = std::move(body);
    return r;
  }
};

/// Thread-safety: every method may be called from any thread once created. Lifetime: owns the
/// in-process testenv (when any) and the clients; destroy before the IoRuntime.
class Target {
 public:
  /// A fresh in-process kube-testenv cluster on 127.0.0.1:0 with an OffsetClock.
  static Expected<std::unique_ptr<Target>> inProcess(IoRuntime& io);
  /// The server of `context` (empty: current-context) in the kubeconfig file. Probes
  /// `/_testenv/faults` to learn whether the server is a kube-testenv.
  static Expected<std::unique_ptr<Target>> fromKubeconfig(IoRuntime& io, const std::string& path,
                                                          const std::string& context);
  ~Target();
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  /// "in-process kube-testenv" or "kubeconfig <path> (<server>)".
  const std::string& description() const { return description_; }
  IoRuntime& io() { return io_; }
  const kube::RestConfig& config() const { return config_; }
  kube::ClientPtr admin() const { return admin_; }
  /// Another admin client with its own options (retries, sleep hook).
  kube::ClientPtr adminWith(kube::ClientOptions options) const;
  /// The server's /version (read once at creation).
  const kube::ServerVersion& version() const { return version_; }
  /// True for a v1.32 server: the recordings' exact documents (discovery lists, defaults) are
  /// compared only then.
  bool recordedVersion() const { return version_.major == 1 && version_.minor == 32; }

  /// A client authenticating with `token` (same server and CA, no client certificate), without
  /// retries so 401/403 answers come back at once.
  kube::ClientPtr clientWithToken(const std::string& token);
  /// Sends one request through our transport with the chosen credentials.
  Expected<http::Response> raw(const RawRequest& request);

  /// True when the server is a kube-testenv (its admin endpoint answers).
  bool hasAdminEndpoint() const { return hasAdminEndpoint_; }
  /// Calls the admin endpoint (`/_testenv/<path>`) as admin; the answer's JSON (null if none).
  /// kApi errors for non-2xx answers.
  Expected<nlohmann::json> adminCall(const std::string& method, const std::string& path,
                                     const nlohmann::json& body = nullptr);

  /// The in-process cluster and its clock (null when running against a kubeconfig).
  testenv::Cluster* cluster() const { return cluster_; }
  OffsetClock* clock() const { return clock_.get(); }

 private:
  explicit Target(IoRuntime& io) : io_(io) {}
  Expected<void> init();

  IoRuntime& io_;
  std::string description_;
  kube::RestConfig config_;
  kube::ClientPtr admin_;
  kube::ServerVersion version_;
  kube::TransportPtr adminTransport_;  // the admin's TLS settings (client certificate, if any)
  kube::TransportPtr plainTransport_;  // CA only
  bool hasAdminEndpoint_ = false;
  std::shared_ptr<OffsetClock> clock_;
  std::unique_ptr<testenv::Testenv> env_;
  testenv::Cluster* cluster_ = nullptr;
};

}  // namespace rio::conformance
