#include "test/conformance/fixtures.h"

#include <fstream>
#include <sstream>

namespace rio::conformance {
namespace {

void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

std::string shorten(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 160) s = s.substr(0, 157) + "...";
  return s;
}

void diffInto(const nlohmann::json& got, const nlohmann::json& want, const std::string& path,
              std::vector<std::string>& out) {
  if (got.is_object() && want.is_object()) {
    for (const auto& [k, v] : want.items()) {
      std::string p = path + "/" + k;
      if (!got.contains(k)) {
        out.push_back(p + ": missing, recorded " + shorten(v));
      } else {
        diffInto(got[k], v, p, out);
      }
    }
    for (const auto& [k, v] : got.items()) {
      if (!want.contains(k))
        out.push_back(path + "/" + k + ": got " + shorten(v) + ", not recorded");
    }
    return;
  }
  if (got.is_array() && want.is_array()) {
    if (got.size() != want.size()) {
      out.push_back(path + ": got " + std::to_string(got.size()) + " items " + shorten(got) +
                    ", recorded " + std::to_string(want.size()) + " " + shorten(want));
      return;
    }
    for (std::size_t i = 0; i < got.size(); ++i)
      diffInto(got[i], want[i], path + "/" + std::to_string(i), out);
    return;
  }
  if (got != want) out.push_back(path + ": got " + shorten(got) + ", recorded " + shorten(want));
}

nlohmann::json normalize(nlohmann::json obj, const ObjectDiffOptions& options) {
  if (!obj.is_object()) return obj;
  if (obj.contains("metadata") && obj["metadata"].is_object()) {
    auto& m = obj["metadata"];
    for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"}) {
      // creationTimestamp: null (TokenRequest templates, reviews) is part of the shape; keep it.
      if (m.contains(k) && !m[k].is_null()) m.erase(k);
    }
    if (m.contains("managedFields")) {
      if (!options.managedFields) {
        m.erase("managedFields");
      } else if (m["managedFields"].is_array()) {
        // Sorted by manager/operation/subresource: the order of entries is not part of the API.
        std::vector<nlohmann::json> entries;
        for (auto e : m["managedFields"]) {
          e.erase("time");
          entries.push_back(std::move(e));
        }
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
          auto key = [](const nlohmann::json& e) {
            return e.value("manager", "") + "/" + e.value("operation", "") + "/" +
                   e.value("subresource", "");
          };
          return key(a) < key(b);
        });
        m["managedFields"] = entries;
      }
    }
  }
  if (obj.value("kind", "") == "TokenRequest" && obj.contains("status") &&
      obj["status"].is_object()) {
    obj["status"].erase("token");
    obj["status"].erase("expirationTimestamp");
  }
  for (const auto& p : options.ignore) {
    nlohmann::json::json_pointer ptr(p);
    if (!obj.contains(ptr)) continue;
    auto parent = ptr.parent_pointer();
    auto& holder = obj.at(parent);
    if (holder.is_object()) holder.erase(ptr.back());
  }
  return obj;
}

}  // namespace

std::string Renames::apply(const std::string& s) const {
  std::string out = s;
  for (const auto& [from, to] : names) {
    if (out == from) {
      out = to;
      continue;
    }
    replaceAll(out, "\"" + from + "\"", "\"" + to + "\"");
    replaceAll(out, ":" + from + ":", ":" + to + ":");
    replaceAll(out, "/" + from + "/", "/" + to + "/");
    if (out.rfind(from + ".", 0) == 0) out = to + out.substr(from.size());
  }
  for (const auto& [from, to] : substrings) replaceAll(out, from, to);
  return out;
}

nlohmann::json Renames::apply(const nlohmann::json& j) const {
  if (j.is_string()) return apply(j.get<std::string>());
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(apply(v));
    return out;
  }
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : j.items()) out[apply(k)] = apply(v);
    return out;
  }
  return j;
}

Expected<std::string> Fixtures::read(const std::string& file) const {
  std::ifstream in(dir_ + "/" + file);
  if (!in) return fail(Error::config("cannot read recorded exchange " + dir_ + "/" + file));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Expected<std::string> Fixtures::responseBody(const std::string& file) const {
  auto all = read(file);
  if (!all) return fail(all.error());
  auto marker = all->find("--- response");
  if (marker == std::string::npos) return fail(Error::config(file + ": no \"--- response\""));
  auto pos = all->find("\n\n", marker);
  if (pos == std::string::npos) return std::string();
  return all->substr(pos + 2);
}

Expected<nlohmann::json> Fixtures::response(const std::string& file) const {
  auto body = responseBody(file);
  if (!body) return fail(body.error());
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded())
    return fail(Error::config(file + ": the response body is not one JSON document"));
  return j;
}

Expected<nlohmann::json> Fixtures::request(const std::string& file) const {
  auto all = read(file);
  if (!all) return fail(all.error());
  auto start = all->find("\n\n");
  auto end = all->find("\n\n--- response");
  if (start == std::string::npos || end == std::string::npos || end <= start)
    return fail(Error::config(file + ": no request body"));
  auto j = nlohmann::json::parse(all->substr(start + 2, end - start - 2), nullptr, false);
  if (j.is_discarded()) return fail(Error::config(file + ": the request body is not JSON"));
  return j;
}

Expected<int> Fixtures::responseCode(const std::string& file) const {
  auto all = read(file);
  if (!all) return fail(all.error());
  auto marker = all->find("--- response");
  if (marker == std::string::npos) return fail(Error::config(file + ": no \"--- response\""));
  auto line = all->find("HTTP/", marker);
  if (line == std::string::npos) return fail(Error::config(file + ": no status line"));
  auto space = all->find(' ', line);
  try {
    return std::stoi(all->substr(space + 1, 3));
  } catch (...) {
    return fail(Error::config(file + ": bad status line"));
  }
}

std::vector<std::string> diffStatus(const meta::Status& got, const nlohmann::json& recorded,
                                    const Renames& renames) {
  std::vector<std::string> out;
  auto want = meta::Status::fromJson(renames.apply(recorded));
  if (!want) return {"the recording is not a Status"};
  auto cmp = [&](const std::string& field, const auto& g, const auto& w) {
    if (g != w) {
      std::ostringstream ss;
      ss << field << ": got \"" << g << "\", recorded \"" << w << "\"";
      out.push_back(ss.str());
    }
  };
  cmp("code", got.code, want->code);
  cmp("status", got.status, want->status);
  cmp("reason", got.reason, want->reason);
  cmp("message", got.message, want->message);
  cmp("details.name", got.detailsName, want->detailsName);
  cmp("details.group", got.detailsGroup, want->detailsGroup);
  cmp("details.kind", got.detailsKind, want->detailsKind);
  cmp("details.retryAfterSeconds", got.retryAfterSeconds.value_or(-1),
      want->retryAfterSeconds.value_or(-1));
  if (got.causes.size() != want->causes.size()) {
    out.push_back("details.causes: got " + std::to_string(got.causes.size()) + ", recorded " +
                  std::to_string(want->causes.size()));
  } else {
    for (std::size_t i = 0; i < got.causes.size(); ++i) {
      std::string p = "details.causes[" + std::to_string(i) + "].";
      cmp(p + "reason", got.causes[i].reason, want->causes[i].reason);
      cmp(p + "message", got.causes[i].message, want->causes[i].message);
      cmp(p + "field", got.causes[i].field, want->causes[i].field);
    }
  }
  return out;
}

std::vector<std::string> diffObjects(const nlohmann::json& got, const nlohmann::json& recorded,
                                     const Renames& renames, const ObjectDiffOptions& options) {
  std::vector<std::string> out;
  diffInto(normalize(got, options), normalize(renames.apply(recorded), options), "", out);
  return out;
}

std::map<std::string, nlohmann::json> fieldSets(const nlohmann::json& object) {
  std::map<std::string, nlohmann::json> out;
  if (!object.contains("metadata")) return out;
  for (const auto& e : object["metadata"].value("managedFields", nlohmann::json::array())) {
    out[e.value("manager", "") + "/" + e.value("operation", "") + "/" +
        e.value("subresource", "")] = e.value("fieldsV1", nlohmann::json());
  }
  return out;
}

std::string joinDiffs(const std::vector<std::string>& diffs, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < diffs.size() && i < max; ++i) {
    if (i) out += "; ";
    out += diffs[i];
  }
  if (diffs.size() > max) out += " (+" + std::to_string(diffs.size() - max) + " more)";
  return out;
}

}  // namespace rio::conformance
