// Strategic merge patch as kube-apiserver applies it to built-in kinds
// (k8s.io/apimachinery/pkg/util/strategicpatch, with MergeParallelList and IgnoreUnmatchedNulls as
// the server sets them): lists tagged patchStrategy=merge merge by their patchMergeKey (or as sets
// of scalars), other lists are replaced; `$patch: replace|delete` on maps and list items,
// `$retainKeys`, `$deleteFromPrimitiveList/<list>` and `$setElementOrder/<list>`; null removes a
// key. The error codes follow the server's interpretStrategicMergePatchError.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "test/testenv/fieldpath.h"
#include "test/testenv/merge.h"
#include "test/testenv/merge_schema.h"

namespace rio::testenv {
namespace {

using nlohmann::json;
using schema::Type;

constexpr std::string_view kDirective = "$patch";
constexpr std::string_view kReplace = "replace";
constexpr std::string_view kDelete = "delete";
constexpr std::string_view kMerge = "merge";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";
constexpr std::string_view kSetElementOrder = "$setElementOrder/";

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Go's %v of a decoded JSON value, for messages that quote patch content.
std::string goFormat(const json& v) {
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + goFormat(v[i]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "map[";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += (first ? "" : " ") + it.key() + ":" + goFormat(it.value());
      first = false;
    }
    return out + "]";
  }
  return fieldpath::dumpCompact(v);
}

// Go's reflect type of a decoded JSON value: lists of different element types do not merge.
int goTypeOf(const json& v) {
  if (v.is_object()) return 1;
  if (v.is_array()) return 2;
  if (v.is_string()) return 3;
  if (v.is_boolean()) return 4;
  if (v.is_number_float()) return 5;
  if (v.is_number()) return 6;
  return 0;  // null
}

// A value taken from the patch as is, the way the typed object would decode it: no directives,
// no nulls.
json clean(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (startsWith(it.key(), "$") || it.value().is_null()) continue;
      out[it.key()] = clean(it.value());
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v) out.push_back(clean(item));
    return out;
  }
  return v;
}

// The patch strategy without retainKeys (which applies wherever `$retainKeys` appears).
std::string listStrategy(const schema::Child& c) {
  if (c.field == nullptr) return {};
  std::string s = c.field->patchStrategy;
  for (std::string_view drop : {",retainKeys", "retainKeys,", "retainKeys"}) {
    if (auto pos = s.find(drop); pos != std::string::npos) s.erase(pos, drop.size());
  }
  return s;
}

std::string mergeKeyOf(const schema::Child& c) {
  return c.field == nullptr ? std::string{} : c.field->patchMergeKey;
}

class Patcher {
 public:
  bool failed() const { return error_.has_value(); }
  Error error() const { return *error_; }

  json mergeMap(const json& original, const json& patchIn, const Type* t) {
    if (auto d = patchIn.find(std::string(kDirective)); d != patchIn.end()) {
      if (*d == kReplace) {
        json p = patchIn;
        p.erase(std::string(kDirective));
        return clean(p);
      }
      if (*d == kDelete) return json::object();
      fail500("unknown patch type: " + goFormat(*d) + " in map: " + goFormat(patchIn));
      return {};
    }
    json out = original.is_object() ? original : json::object();
    json patch = patchIn;

    if (auto rk = patch.find(std::string(kRetainKeys)); rk != patch.end()) {
      if (!rk->is_array()) return fail400("invalid patch format of retainKeys");
      std::vector<std::string> keep;
      for (const auto& k : *rk) {
        if (!k.is_string()) return fail400("invalid patch format of retainKeys");
        keep.push_back(k.get<std::string>());
      }
      patch.erase(rk);
      for (auto it = out.begin(); it != out.end();) {
        if (std::find(keep.begin(), keep.end(), it.key()) == keep.end()) {
          it = out.erase(it);
        } else {
          ++it;
        }
      }
    }

    applySetElementOrder(out, patch, t);
    if (failed()) return {};

    // Deletions from primitive lists first, then the rest of the patch.
    for (int pass = 0; pass < 2 && !failed(); ++pass) {
      for (auto it = patch.begin(); it != patch.end() && !failed(); ++it) {
        const bool isDeleteList = startsWith(it.key(), kDeleteFromPrimitiveList);
        if (isDeleteList != (pass == 0)) continue;
        std::string key = it.key();
        if (isDeleteList) {
          key = key.substr(kDeleteFromPrimitiveList.size());
          if (!it.value().is_array()) return fail400("invalid patch format of primitive list");
        } else if (startsWith(key, "$")) {
          continue;  // unknown directives: the typed object has no such field
        }
        mergeKey(out, key, it.value(), t, isDeleteList);
      }
    }
    if (failed()) return {};
    return out;
  }

 private:
  void mergeKey(json& out, const std::string& key, const json& patchV, const Type* t,
                bool isDeleteList) {
    if (patchV.is_null()) {
      out.erase(key);
      return;
    }
    auto existing = out.find(key);
    if (existing == out.end()) {
      if (!isDeleteList) out[key] = clean(patchV);
      return;
    }
    if (goTypeOf(*existing) != goTypeOf(patchV)) {
      if (!isDeleteList) out[key] = clean(patchV);
      return;
    }
    const schema::Child c = schema::childOf(t, key);
    if (patchV.is_object()) {
      if (listStrategy(c) == kReplace) {
        out[key] = clean(patchV);
      } else {
        json merged = mergeMap(*existing, patchV, c.type);
        if (!failed()) out[key] = std::move(merged);
      }
    } else if (patchV.is_array()) {
      json merged = mergeSliceHandler(*existing, patchV, c, isDeleteList);
      if (!failed()) out[key] = std::move(merged);
    } else if (!isDeleteList) {
      out[key] = patchV;
    }
  }

  json mergeSliceHandler(const json& original, const json& patch, const schema::Child& c,
                         bool isDeleteList) {
    if (listStrategy(c) == kMerge || isDeleteList) {
      return mergeSlice(original, patch, schema::itemOf(c.type), mergeKeyOf(c), isDeleteList);
    }
    return clean(patch);
  }

  // The element type of both lists; 0 with an error set when they disagree.
  int elementType(const json& a, const json& b) {
    int type = -1;
    for (const json* list : {&a, &b}) {
      for (const auto& v : *list) {
        const int t = goTypeOf(v);
        if (t == 0) {
          fail500("list element types are not identical: " + goFormat(a) + " " + goFormat(b));
          return 0;
        }
        if (type == -1) {
          type = t;
          if (t == 2) {
            fail(422, meta::reason::kInvalid, "lists of lists are not supported");
            return 0;
          }
        } else if (type != t) {
          fail500("list element types are not identical: " + goFormat(a) + " " + goFormat(b));
          return 0;
        }
      }
    }
    return type;
  }

  json mergeSlice(json original, json patch, const Type* itemType, const std::string& mergeKey,
                  bool isDeleteList) {
    if (original.empty() && patch.empty()) return original;
    const int type = elementType(original, patch);
    if (failed()) return {};
    json merged = json::array();
    json serverOrder = original;
    if (type != 1) {
      if (isDeleteList) {
        json out = json::array();
        for (const auto& v : original) {
          if (std::find(patch.begin(), patch.end(), v) == patch.end()) out.push_back(v);
        }
        return out;
      }
      for (const json* list : {&original, &patch}) {
        for (const auto& v : *list) {
          if (std::find(merged.begin(), merged.end(), v) == merged.end()) merged.push_back(v);
        }
      }
    } else {
      if (mergeKey.empty()) {
        fail500("cannot merge lists without merge key");
        return {};
      }
      if (!mergeSpecialElements(original, patch, mergeKey)) return {};
      serverOrder = original;  // the live order, after deletions
      for (const auto& item : patch) {
        auto value = item.find(mergeKey);
        if (value == item.end()) return noMergeKey(item, mergeKey);
        auto idx = findByKey(original, mergeKey, *value);
        if (failed()) return {};
        if (idx) {
          json m = mergeMap(original[*idx], item, itemType);
          if (failed()) return {};
          original[*idx] = std::move(m);
        } else {
          original.push_back(clean(item));
        }
      }
      merged = std::move(original);
    }
    return normalizeElementOrder(merged, patch, serverOrder, mergeKey, type == 1);
  }

  // `$patch: delete` items remove their match, `$patch: replace` makes the patch the list.
  bool mergeSpecialElements(json& original, json& patch, const std::string& mergeKey) {
    json plain = json::array();
    bool replace = false;
    for (const auto& item : patch) {
      auto d = item.find(std::string(kDirective));
      if (d == item.end()) {
        plain.push_back(item);
        continue;
      }
      if (*d == kDelete) {
        auto value = item.find(mergeKey);
        if (value == item.end()) {
          noMergeKey(item, mergeKey);
          return false;
        }
        json kept = json::array();
        for (const auto& o : original) {
          if (!o.is_object()) {
            fail500("invalid value for merge: " + goFormat(o));
            return false;
          }
          auto ov = o.find(mergeKey);
          if (ov == o.end() || *ov != *value) kept.push_back(o);
        }
        original = std::move(kept);
      } else if (*d == kReplace) {
        replace = true;
      } else if (*d == kMerge) {
        fail500("merging lists cannot yet be specified in the patch");
        return false;
      } else {
        fail500("unknown patch type: " + goFormat(*d) + " in map: " + goFormat(item));
        return false;
      }
    }
    if (replace) {
      original = json::array();
      for (const auto& item : plain) original.push_back(clean(item));
      patch = json::array();
      return true;
    }
    patch = std::move(plain);
    return true;
  }

  std::optional<std::size_t> findByKey(const json& list, const std::string& mergeKey,
                                       const json& value) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_object()) {
        fail500("invalid value for merge: " + goFormat(list[i]));
        return std::nullopt;
      }
      auto v = list[i].find(mergeKey);
      if (v != list[i].end() && *v == value) return i;
    }
    return std::nullopt;
  }

  // Position of `item` in `order` (by merge key for maps, by value for scalars); -1 if absent.
  static long indexIn(const json& order, const json& item, const std::string& mergeKey, bool maps) {
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (maps) {
        if (order[i].is_object() && item.is_object() && order[i].contains(mergeKey) &&
            item.contains(mergeKey) && order[i][mergeKey] == item[mergeKey]) {
          return static_cast<long>(i);
        }
      } else if (order[i] == item) {
        return static_cast<long>(i);
      }
    }
    return -1;
  }

  // Sorts by position in `order`; items not in it keep their relative order after the others.
  static json sortBy(const json& list, const json& order, const std::string& mergeKey, bool maps) {
    std::vector<json> items(list.begin(), list.end());
    std::stable_sort(items.begin(), items.end(), [&](const json& a, const json& b) {
      long ia = indexIn(order, a, mergeKey, maps);
      long ib = indexIn(order, b, mergeKey, maps);
      if (ia < 0) ia = static_cast<long>(order.size());
      if (ib < 0) ib = static_cast<long>(order.size());
      return ia < ib;
    });
    return json(items);
  }

  // Patch items in patch order, server-only items in server order, interleaved by the server
  // order where both are known (strategicpatch normalizeElementOrder / mergeSortedSlice): new
  // items come before the server items that follow them.
  json normalizeElementOrder(const json& merged, const json& patchOrder, const json& serverOrder,
                             const std::string& mergeKey, bool maps) {
    json inPatch = json::array();
    json serverOnly = json::array();
    for (const auto& item : merged) {
      if (maps && (!item.is_object() || !item.contains(mergeKey)))
        return noMergeKey(item, mergeKey);
      (indexIn(patchOrder, item, mergeKey, maps) >= 0 ? inPatch : serverOnly).push_back(item);
    }
    const json right = sortBy(inPatch, patchOrder, mergeKey, maps);
    const json left = sortBy(serverOnly, serverOrder, mergeKey, maps);
    json out = json::array();
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < left.size() || j < right.size()) {
      if (i >= left.size()) {
        out.push_back(right[j++]);
      } else if (j >= right.size()) {
        out.push_back(left[i++]);
      } else {
        const long li = indexIn(serverOrder, left[i], mergeKey, maps);
        const long ri = indexIn(serverOrder, right[j], mergeKey, maps);
        if (li >= 0 && ri >= 0 && li < ri) {
          out.push_back(left[i++]);
        } else {
          out.push_back(right[j++]);
        }
      }
    }
    return out;
  }

  // `$setElementOrder/<list>`: merges the list (if patched) and puts it in the given order.
  void applySetElementOrder(json& out, json& patch, const Type* t) {
    std::vector<std::string> directives;
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      if (startsWith(it.key(), kSetElementOrder)) directives.push_back(it.key());
    }
    for (const auto& directive : directives) {
      const json order = patch[directive];
      patch.erase(directive);
      if (!order.is_array()) {
        fail400("invalid patch format of setElementOrder list");
        return;
      }
      const std::string field = directive.substr(kSetElementOrder.size());
      const schema::Child c = schema::childOf(t, field);
      const std::string mergeKey = mergeKeyOf(c);
      const json* patchList =
          patch.contains(field) && patch[field].is_array() ? &patch[field] : nullptr;
      const json* liveList = out.contains(field) && out[field].is_array() ? &out[field] : nullptr;
      if (patchList == nullptr && liveList == nullptr) continue;
      json merged = patchList != nullptr ? mergeSliceHandler(liveList ? *liveList : json::array(),
                                                             *patchList, c, false)
                                         : *liveList;
      if (failed()) return;
      bool maps = false;
      for (const auto& item : merged) maps = maps || item.is_object();
      if (maps) {
        for (const auto& o : order) {
          if (!o.is_object() || !o.contains(mergeKey)) {
            noMergeKey(o, mergeKey);
            return;
          }
        }
      }
      out[field] = sortBy(merged, order, mergeKey, maps);
      if (patchList != nullptr) patch.erase(field);
    }
  }

  json noMergeKey(const json& item, const std::string& mergeKey) {
    fail500("map: " + goFormat(item) + " does not contain declared merge key: " + mergeKey);
    return {};
  }

  json fail400(std::string message) {
    return fail(400, meta::reason::kBadRequest, std::move(message));
  }

  // Errors kube does not translate into a Status become a 500 without a reason.
  void fail500(std::string message) { fail(500, "", std::move(message)); }

  json fail(int code, std::string_view reason, std::string message) {
    if (!error_) error_ = Error::api(meta::Status::failure(code, reason, std::move(message)));
    return {};
  }

  std::optional<Error> error_;
};

std::string goUnmarshalType(const json& v) {
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  return "number";
}

}  // namespace

Expected<json> strategicMergePatch(const json& original, const json& patch,
                                   std::string_view apiVersion, std::string_view kind) {
  if (!schema::isBuiltinGroup(schema::groupOf(apiVersion))) {
    // Custom resources do not route strategic merge patches at all.
    return fail(Error::api(meta::Status::failure(
        415, meta::reason::kUnsupportedMediaType,
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml")));
  }
  if (patch.is_null()) return original;
  if (!patch.is_object()) {
    return fail(
        Error::api(meta::Status::failure(400, meta::reason::kBadRequest,
                                         "json: cannot unmarshal " + goUnmarshalType(patch) +
                                             " into Go value of type map[string]interface {}")));
  }
  try {
    Patcher patcher;
    json out = patcher.mergeMap(original, patch, schema::rootType(apiVersion, kind));
    if (patcher.failed()) return fail(patcher.error());
    return out;
  } catch (const std::exception& e) {
    // Not expected: the module boundary keeps nlohmann::json's exceptions in.
    return fail(Error::api(meta::Status::failure(500, "", e.what())));
  }
}

}  // namespace rio::testenv
