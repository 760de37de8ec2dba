# Trellis: a static binary on a distroless, non-root base.
#   docker build -t trellis --build-arg VERSION=$(git describe --always) .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/trellis ./cmd/trellis \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trellis /usr/local/bin/trellis
# The data directory (git mirrors, key file when TRELLIS_SECRET_KEY is not
# set) belongs to the nonroot user (65532), so a fresh volume does too.
COPY --from=build --chown=65532:65532 /out/data /var/lib/trellis
USER 65532:65532
ENV TRELLIS_ADDR=:8080 \
    TRELLIS_DATA_DIR=/var/lib/trellis \
    TRELLIS_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/trellis"]
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 CMD ["/usr/local/bin/trellis", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/trellis"]
CMD ["serve"]
