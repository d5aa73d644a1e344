#include "controller/kube/token_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace rio::kube {
namespace {

// Projected service-account tokens are a few KiB; anything this large is not a token file.
constexpr std::streamsize kMaxTokenBytes = 1 << 20;

std::string trimSpace(std::string s) {
  const char* ws = " \t\r\n\f\v";
  const auto end = s.find_last_not_of(ws);
  if (end == std::string::npos) return {};
  s.erase(end + 1);
  s.erase(0, s.find_first_not_of(ws));
  return s;
}

}  // namespace

FileTokenSource::FileTokenSource(std::string path, ClockPtr clock, std::chrono::seconds maxAge)
    : path_(std::move(path)), clock_(clock ? std::move(clock) : systemClock()), maxAge_(maxAge) {}

Expected<std::string> FileTokenSource::token() {
  std::lock_guard lock(mu_);
  struct ::stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    const int err = errno;
    return fail(Error::config("cannot read token file " + path_ + ": " + std::strerror(err)));
  }
  const long long mtimeNs =
      static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  const long long size = static_cast<long long>(st.st_size);
  const SteadyTime now = clock_->now();
  const bool fresh =
      !cached_.empty() && mtimeNs == mtimeNs_ && size == size_ && now - readAt_ < maxAge_;
  if (fresh) return cached_;

  // Whatever happens below, the cached value is no longer trusted.
  cached_.clear();
  mtimeNs_ = -1;
  size_ = -1;

  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    const int err = errno;
    return fail(Error::config("cannot read token file " + path_ + ": " + std::strerror(err)));
  }
  std::string content(static_cast<std::size_t>(kMaxTokenBytes) + 1, '\0');
  in.read(content.data(), kMaxTokenBytes + 1);
  if (in.bad()) {
    return fail(Error::config("cannot read token file " + path_ + ": read failed"));
  }
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (static_cast<std::streamsize>(content.size()) > kMaxTokenBytes) {
    return fail(Error::config("token file " + path_ + " is larger than 1 MiB; not a token"));
  }
  std::string token = trimSpace(std::move(content));
  if (token.empty()) return fail(Error::config("token file " + path_ + " is empty"));

  cached_ = std::move(token);
  mtimeNs_ = mtimeNs;
  size_ = size;
  readAt_ = now;
  return cached_;
}

bool FileTokenSource::invalidate() {
  std::lock_guard lock(mu_);
  cached_.clear();
  mtimeNs_ = -1;
  size_ = -1;
  return true;
}

}  // namespace rio::kube
