// The operator killed right after each write it makes while a cluster joins, and while a
// RemoteIstio is reconciled, then started again: it converges, with every object exactly once,
// nothing a clean run would not have made, and the user's objects untouched.
//
// A kill, in-process: from the moment the K-th write was answered, every request of the old
// process is dropped unanswered (the Tap's cut, on every API server), so it cannot write again;
// then it is stopped and a fresh process starts on the same clusters. The write points are
// counted in a clean run first, so every one of them is a kill point.
#include <catch2/catch.hpp>

#include "test/fault/fault_harness.h"

using namespace rio;
using namespace rio::testing::fault;
using rio::testing::eventually;

namespace {

const std::vector<std::string> kRemotes = {"cn-beijing"};

struct CleanRun {
  std::uint64_t writes = 0;
  std::vector<std::string> log;
  std::set<std::string> inventory;
};

// The part of the scenario before the measured writes: for a RemoteIstio, a member that joined
// (with another process, stopped since) and then the RemoteIstio created.
void prepare(World& w, bool remoteIstio) {
  w.join("cn-beijing");
  if (!remoteIstio) return;
  {
    OperatorProcess op(w.env());
    waitConverged(w, kRemotes, false);
  }
  w.createRemoteIstio("cn-beijing");
}

CleanRun cleanRun(bool remoteIstio) {
  World w({kRemotes});
  prepare(w, remoteIstio);
  auto before = snapshot(w.env());
  w.tap().arm();
  OperatorProcess op(w.env());
  waitConverged(w, kRemotes, remoteIstio);
  w.tap().disarm();
  CleanRun run;
  run.writes = w.tap().writes();
  run.log = w.tap().log();
  run.inventory = created(before, snapshot(w.env()));
  return run;
}

void killAt(std::uint64_t k, bool remoteIstio, const CleanRun& clean) {
  World w({kRemotes});
  prepare(w, remoteIstio);
  // For a RemoteIstio, `before` holds the join's objects too: they are the operator's, left out of
  // checkNothingElseTouched by their managed-by label.
  auto before = snapshot(w.env());
  w.tap().arm(k);
  std::string killedAfter;
  {
    OperatorProcess op(w.env());
    // A run may make a write or two fewer than the clean one (a status write folded into the
    // previous one): then the process is killed once it went quiet.
    if (eventually([&] { return w.tap().cut(); }, 20s)) {
      auto log = w.tap().log();
      killedAfter = log.empty() ? "?" : log.back();
    } else {
      killedAfter = "none: this run made only " + std::to_string(w.tap().writes()) + " writes";
      WARN("write " << k << " never came; killed after the last one");
    }
  }
  INFO("killed after write " << k << ": " << killedAfter);
  w.tap().disarm();
  w.tap().uncut();
  OperatorProcess restarted(w.env());
  checkConverged(w, kRemotes, before, clean.inventory, remoteIstio);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i)
    out += std::to_string(i + 1) + ". " + lines[i] + "\n";
  return out;
}

// Kills the operator after each write `k` of the chosen part of a clean run's writes, then
// restarts it (killAt).
enum class Writes { kAll, kFirstHalf, kSecondHalf };
void killAfterEachWrite(bool remoteIstio, Writes which) {
  auto clean = cleanRun(remoteIstio);
  INFO("the writes of " << (remoteIstio ? "a RemoteIstio reconcile" : "a join") << ":\n"
                        << joined(clean.log));
  REQUIRE(clean.writes > 3);
  const std::uint64_t first = which == Writes::kSecondHalf ? clean.writes / 2 + 1 : 1;
  const std::uint64_t last = which == Writes::kFirstHalf ? clean.writes / 2 : clean.writes;
  for (std::uint64_t k = first; k <= last; ++k) killAt(k, remoteIstio, clean);
}

}  // namespace

TEST_CASE(
    "The operator killed after any write of a join converges once restarted, every object "
    "once, the user's untouched",
    "[fault][kill]") {
  killAfterEachWrite(false, Writes::kAll);
}

// The RemoteIstio's write points in two halves, two CTest tests that run side by side.
TEST_CASE(
    "The operator killed after any write in the first half of a RemoteIstio reconcile converges "
    "once restarted, every object once, the user's untouched",
    "[fault][kill]") {
  killAfterEachWrite(true, Writes::kFirstHalf);
}

TEST_CASE(
    "The operator killed after any write in the second half of a RemoteIstio reconcile converges "
    "once restarted, every object once, the user's untouched",
    "[fault][kill]") {
  killAfterEachWrite(true, Writes::kSecondHalf);
}
