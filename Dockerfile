# Multi-stage build of a static dancu binary (pure Go: SQLite and NATS are
# built in, no cgo).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/dancu ./cmd/dancu

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dancu /dancu
ENV DANCU_ADDR=0.0.0.0:8080 DANCU_DATA=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/dancu"]
CMD ["serve"]
