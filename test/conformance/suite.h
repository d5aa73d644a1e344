// The conformance suite's runner: named cases, each run in its own uniquely named namespace with
// a cleanup stack, reported one line per case (PASS / FAIL / SKIP and the reason).
//
// A case is plain sequential code against a Target (target.h). It fails by calling
// Context::require / fail (which throw CaseFailed, caught by the runner) and skips with
// Context::skip (CaseSkipped). Cleanups registered with Context::defer run in reverse order
// whatever the outcome.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/kube/client.h"
#include "test/conformance/fixtures.h"
#include "test/conformance/target.h"

namespace rio::conformance {

/// Thrown by Context::fail/require; the runner reports FAIL with the message.
struct CaseFailed {
  std::string reason;
};
/// Thrown by Context::skip; the runner reports SKIP with the reason.
struct CaseSkipped {
  std::string reason;
};

/// What a case needs of its target beyond a Kubernetes API server.
enum class Needs {
  kNothing,
  /// The testenv admin endpoint (fault injection, accounting): in-process testenv or a
  /// kube-testenv binary reached with --kubeconfig.
  kAdminEndpoint,
  /// The in-process testenv (its clock, its Cluster object).
  kInProcess,
};

class Context;

struct Case {
  /// "area: what is checked", e.g. "errors: 404 NotFound".
  std::string name;
  /// The semantic in one sentence, for README and --list.
  std::string description;
  Needs needs = Needs::kNothing;
  std::function<void(Context&)> run;
};

/// One case's world. Not thread-safe except where noted (watch callbacks must not call it).
class Context {
 public:
  Context(Target& target, const Fixtures& fixtures, std::string caseSlug);
  ~Context();  // runs the cleanups
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Target& target() { return target_; }
  const Fixtures& fixtures() const { return fixtures_; }
  /// The admin client.
  kube::Client& client() { return *target_.admin(); }
  kube::ClientPtr clientPtr() { return target_.admin(); }

  /// The case's namespace ("rio-conf-<slug>-<random>"), created on first use and deleted at
  /// the end of the case.
  const std::string& ns();
  /// A unique name for a cluster-scoped object: "<base>-<random>" (the same random suffix as
  /// the namespace).
  std::string unique(std::string_view base) const;
  /// The random suffix of this case (lower-case letters and digits).
  const std::string& suffix() const { return suffix_; }

  /// Runs `fn` when the case ends (reverse order of registration). Errors are ignored.
  void defer(std::function<void()> fn);
  /// Deletes the object when the case ends (NotFound ignored; finalizers are removed first so
  /// the object really goes).
  void deleteLater(const kube::Resource& resource, const kube::ObjectKey& key);

  [[noreturn]] void fail(const std::string& reason) const;
  void require(bool condition, const std::string& reason) const {
    if (!condition) fail(reason);
  }
  [[noreturn]] void skip(const std::string& reason) const;

  /// The value of a successful result, or FAIL with "<what>: <error>".
  template <class T>
  T must(Expected<T> result, const std::string& what) const {
    if (!result) fail(what + ": " + describe(result.error()));
    return std::move(*result);
  }
  void must(Expected<void> result, const std::string& what) const {
    if (!result) fail(what + ": " + describe(result.error()));
  }
  /// The error of a result that must fail, or FAIL with "<what>: succeeded unexpectedly".
  template <class T>
  Error mustFail(const Expected<T>& result, const std::string& what) const {
    if (result) fail(what + ": succeeded, expected an error");
    return result.error();
  }

  /// Polls `condition` every 50 ms until true or `timeout`; FAIL with `what` on timeout.
  void eventually(const std::function<bool()>& condition, const std::string& what,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  /// The error in one line: kind, code, reason, message.
  static std::string describe(const Error& error);

 private:
  Target& target_;
  const Fixtures& fixtures_;
  std::string slug_;
  std::string suffix_;
  std::optional<std::string> ns_;
  std::vector<std::function<void()>> cleanups_;
};

enum class Outcome { kPass, kFail, kSkip };

struct Result {
  std::string name;
  Outcome outcome = Outcome::kPass;
  std::string reason;
  std::chrono::milliseconds took{0};
};

/// Runs cases in order and prints one line per case to stdout as it finishes.
class Suite {
 public:
  Suite(Target& target, const Fixtures& fixtures) : target_(target), fixtures_(fixtures) {}

  void add(Case c) { cases_.push_back(std::move(c)); }
  const std::vector<Case>& cases() const { return cases_; }
  /// Runs the cases whose name contains any of `filters` (all when empty).
  std::vector<Result> run(const std::vector<std::string>& filters);

 private:
  Result runOne(const Case& c);

  Target& target_;
  const Fixtures& fixtures_;
  std::vector<Case> cases_;
};

/// "errors: 404 NotFound" -> "errors-404-notfound" (at most 20 characters, DNS-1123).
std::string slugOf(std::string_view caseName);

// The case groups, one per cases_*.cc file.
void addDiscoveryCases(Suite& suite);
void addCrudCases(Suite& suite);
void addMetadataCases(Suite& suite);
void addErrorCases(Suite& suite);
void addPatchCases(Suite& suite);
void addListWatchCases(Suite& suite);
void addStatusCases(Suite& suite);
void addAuthCases(Suite& suite);
void addTestenvCases(Suite& suite);

}  // namespace rio::conformance
