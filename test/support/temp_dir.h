// A temporary directory removed with everything in it when the object goes away.
#pragma once

#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <string>

namespace rio::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rio-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// Writes `content` to `name` under the directory and returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    auto full = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary | std::ios::trunc) << content;
    return full.string();
  }

 private:
  std::string path_;
};

}  // namespace rio::testing
