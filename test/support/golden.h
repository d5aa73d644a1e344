// Golden files: compare generated JSON with a file under test/**/golden/. Run a test binary with
// RIO_UPDATE_GOLDEN=1 to rewrite the files after an intended change, then review the diff.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace rio::testing {

/// Returns "" when `actual` equals the golden file `relativePath` (from the source root), else a
/// message. Rewrites the file instead when RIO_UPDATE_GOLDEN is set.
inline std::string compareGolden(const std::string& relativePath, const nlohmann::json& actual) {
  std::filesystem::path path = std::filesystem::path(RIO_SOURCE_DIR) / relativePath;
  std::string rendered = actual.dump(2) + "\n";
  if (std::getenv("RIO_UPDATE_GOLDEN") != nullptr) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << rendered;
    return {};
  }
  std::ifstream in(path);
  if (!in) return "golden file " + path.string() + " is missing (run with RIO_UPDATE_GOLDEN=1)";
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str() == rendered) return {};
  auto expected = nlohmann::json::parse(ss.str(), nullptr, false);
  return "output differs from " + path.string() + ": " +
         (expected.is_discarded() ? std::string("golden is not JSON") : nlohmann::json::diff(expected, actual).dump());
}

}  // namespace rio::testing
