// Fuzz target: RemoteIstio and MeshMembership objects as the API server (or anyone with write
// access to the CRs) may hand them to the operator. For any JSON document:
// - decoding, defaulting and validation never crash or throw;
// - an object that decodes strictly survives toJson -> fromJson unchanged (nothing dropped,
//   fields the types do not model included);
// - defaulting is idempotent and keeps a valid object valid;
// - the InvalidSpec message fits the limits of a condition and an Event note.
#include <nlohmann/json.hpp>

#include "api/meta/condition.h"
#include "api/v1beta1/mesh_membership.h"
#include "api/v1beta1/remote_istio.h"
#include "test/fuzz/fuzz_support.h"

namespace {

template <typename T, typename Decode>
void check(const nlohmann::json& doc, Decode decode) {
  using rio::meta::kMaxConditionMessageBytes;
  auto strict = T::fromJson(doc);
  if (strict) {
    const auto encoded = strict->toJson();
    auto again = T::fromJson(encoded);
    RIO_FUZZ_CHECK(again.has_value(), encoded.dump());
    RIO_FUZZ_CHECK(*again == *strict, encoded.dump());
    RIO_FUZZ_CHECK(again->toJson() == encoded, encoded.dump());
  }

  auto result = decode(doc);
  const auto message = result.message();
  RIO_FUZZ_CHECK(message.size() <= kMaxConditionMessageBytes, message.substr(0, 200));
  RIO_FUZZ_CHECK(result.message(1024).size() <= 1024, message.substr(0, 200));
  RIO_FUZZ_CHECK(result.ok() == message.empty(), message);
  if (!result.ok()) return;

  T defaulted = result.object;
  defaulted.applyDefaults();
  RIO_FUZZ_CHECK(defaulted == result.object, "decode did not apply every default");
  RIO_FUZZ_CHECK(defaulted.validate().empty(), defaulted.toJson().dump());
  auto reread = T::fromJson(defaulted.toJson());
  RIO_FUZZ_CHECK(reread.has_value() && *reread == defaulted, defaulted.toJson().dump());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rio;
  auto doc = nlohmann::json::parse(fuzz::asText(data, size), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  check<v1beta1::RemoteIstio>(doc, v1beta1::decodeRemoteIstio);
  check<v1beta1::MeshMembership>(doc, v1beta1::decodeMeshMembership);
  return 0;
}
