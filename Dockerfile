# syntax=docker/dockerfile:1
# Multi-stage build of the operator image. Both stages install packages with the same script the
# Makefile and CI use (scripts/install-deps.sh), so what builds here is what is tested outside.

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build --target remote-istio-operator \
 && strip /build/bin/remote-istio-operator

FROM debian:bookworm-slim AS runtime
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh
COPY --from=build /build/bin/remote-istio-operator /usr/local/bin/remote-istio-operator
RUN ln -s /usr/local/bin/remote-istio-operator /usr/local/bin/kubectl-remoteistio
# Non-root, matching deploy/deployment.yaml's securityContext.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/remote-istio-operator"]
