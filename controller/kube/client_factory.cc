// The production client: the Beast transport for a RestConfig plus the REST client on top. Kept
// apart from client.cc so unit tests with a fake transport do not link the network stack.
#include "controller/core/logging.h"
#include "controller/kube/client.h"

namespace rio::kube {

Expected<ClientPtr> makeClient(IoRuntime& io, const RestConfig& config, ClientOptions options) {
  auto endpoint = Endpoint::parse(config.server);
  if (!endpoint) return fail(endpoint.error().wrap(config.origin.empty() ? "server" : config.origin));
  auto transport = sharedTransport(io, *endpoint, config.tls);
  if (!transport) return fail(transport.error().wrap(config.origin.empty() ? "TLS settings" : config.origin));
  return makeClient(std::move(*transport), config, std::move(options));
}

}  // namespace rio::kube
