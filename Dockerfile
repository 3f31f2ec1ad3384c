# syntax=docker/dockerfile:1
# Build a static binary, then ship it alone on a distroless base as a
# non-root user. The SQLite database and generated secret key live in /data.

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -ldflags="-s -w" -o /out/salesbridge ./cmd/salesbridge \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/salesbridge /salesbridge
COPY --from=build --chown=65532:65532 /out/data /data
ENV SALESBRIDGE_ADDR=:8080 \
    SALESBRIDGE_DATABASE_URL=sqlite:///data/salesbridge.db
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/salesbridge", "healthcheck"]
ENTRYPOINT ["/salesbridge"]
CMD ["serve"]
