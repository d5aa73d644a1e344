#include "controller/kube/token_source.h"

#include <filesystem>

#include <catch2/catch.hpp>

#include "test/support/fake_clock.h"
#include "test/support/temp_dir.h"

using rio::kube::FileTokenSource;
using rio::testing::FakeClock;
using rio::testing::TempDir;
namespace fs = std::filesystem;

namespace {

/// Rewrites a file with new content of the same size and puts its old mtime back, so only the
/// maxAge (or invalidate) can reveal the change.
void rewriteKeepingStat(const TempDir& dir, const std::string& name, const std::string& content) {
  const std::string path = (fs::path(dir.path()) / name).string();
  const auto mtime = fs::last_write_time(path);
  dir.write(name, content);
  fs::last_write_time(path, mtime);
}

}  // namespace

TEST_CASE("FileTokenSource: the token is read from the file without its trailing newline",
          "[token]") {
  TempDir dir;
  const auto path = dir.write("token", "tok-first-AAAA\n");
  FileTokenSource source(path, std::make_shared<FakeClock>());
  auto token = source.token();
  REQUIRE(token);
  CHECK(*token == "tok-first-AAAA");
  CHECK(source.path() == path);
}

TEST_CASE("FileTokenSource: a token file rotated between calls is re-read", "[token]") {
  TempDir dir;
  auto clock = std::make_shared<FakeClock>();
  const auto path = dir.write("token", "tok-first\n");
  FileTokenSource source(path, clock);
  REQUIRE(source.token().value() == "tok-first");

  // kubelet swaps the projected token: new content, new size.
  dir.write("token", "tok-second-rotated\n");
  auto token = source.token();
  REQUIRE(token);
  CHECK(*token == "tok-second-rotated");
}

TEST_CASE("FileTokenSource: a change invisible to stat is picked up after maxAge", "[token]") {
  TempDir dir;
  auto clock = std::make_shared<FakeClock>();
  const auto path = dir.write("token", "tok-AAAA\n");
  FileTokenSource source(path, clock, std::chrono::seconds(60));
  REQUIRE(source.token().value() == "tok-AAAA");

  rewriteKeepingStat(dir, "token", "tok-BBBB\n");
  clock->advance(std::chrono::seconds(59));
  CHECK(source.token().value() == "tok-AAAA");  // cached: same mtime and size, not yet maxAge
  clock->advance(std::chrono::seconds(1));
  CHECK(source.token().value() == "tok-BBBB");
}

TEST_CASE("FileTokenSource: invalidate() after a 401 forces a fresh read", "[token]") {
  TempDir dir;
  auto clock = std::make_shared<FakeClock>();
  const auto path = dir.write("token", "tok-AAAA");
  FileTokenSource source(path, clock);
  REQUIRE(source.token().value() == "tok-AAAA");

  rewriteKeepingStat(dir, "token", "tok-BBBB");
  CHECK(source.token().value() == "tok-AAAA");
  CHECK(source.invalidate());
  CHECK(source.token().value() == "tok-BBBB");
}

TEST_CASE("FileTokenSource: an unreadable file is an error naming the path, never the token",
          "[token]") {
  TempDir dir;
  const auto path = dir.write("token", "tok-SECRET-value\n");
  FileTokenSource source(path, std::make_shared<FakeClock>());
  REQUIRE(source.token());

  fs::remove(path);
  auto gone = source.token();
  REQUIRE_FALSE(gone);
  CHECK(gone.error().kind() == rio::ErrorKind::kConfig);
  CHECK(gone.error().message().find(path) != std::string::npos);
  CHECK(gone.error().message().find("tok-SECRET-value") == std::string::npos);

  FileTokenSource missing(dir.path() + "/never-there", std::make_shared<FakeClock>());
  auto never = missing.token();
  REQUIRE_FALSE(never);
  CHECK(never.error().message().find("never-there") != std::string::npos);
}

TEST_CASE("FileTokenSource: an empty token file is an error", "[token]") {
  TempDir dir;
  const auto path = dir.write("token", " \n");
  FileTokenSource source(path, std::make_shared<FakeClock>());
  auto token = source.token();
  REQUIRE_FALSE(token);
  CHECK(token.error().message().find("is empty") != std::string::npos);
}
