#pragma once
// Boost.Beast asynchronous HTTP/1.1 server: keep-alive, one request at a time per
// connection (pipelined requests wait in the buffer), N io threads, size limits and an
// idle timeout. Beast stays out of this header.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::gateway::api {

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // target after '?', raw
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;  // peer IP

  // First value of the header, "" when absent.
  std::string Header(absl::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// May be called from any thread, exactly once (later calls are ignored). A Responder
// dropped without being called answers 500.
using Responder = std::function<void(HttpResponse)>;
// Runs on an io thread: must not block. Gets the whole request, body included.
using Handler = std::function<void(HttpRequest, Responder)>;

// Reads the body of the request a HeadHandler got: may be called from any
// thread, at most once, before answering. `done` runs on an io thread (must
// not block) with the body. It never runs when the body is too large (the
// server answers 413 itself and closes), the client goes away or times out,
// or the request was answered already.
using BodyReader = std::function<void(std::function<void(std::string body)> done)>;
// Runs on an io thread once the request head is read (request.body is
// empty): must not block. It either reads the body (BodyReader) and answers
// then, or answers at once without it — e.g. a refused API key: the body is
// then never read (an `Expect: 100-continue` client is never told to send
// it) and the connection is closed after the answer, as its unread bytes
// would otherwise be taken for the next request.
using HeadHandler = std::function<void(HttpRequest, BodyReader, Responder)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 8080;  // 0 = pick a free port (see port())
  int threads = 2;
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  int idle_timeout_seconds = 60;
  int shutdown_grace_seconds = 5;  // Stop() waits this long for in-flight requests
};

class HttpServer final {
 public:
  // The handler gets whole requests (the body is read first).
  HttpServer(HttpServerOptions options, Handler handler);
  // The handler gets the request head and decides whether to read the body.
  HttpServer(HttpServerOptions options, HeadHandler handler);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the io threads.
  [[nodiscard]] absl::Status Start();
  // The bound port (after Start()).
  int port() const;
  // Stops accepting, closes idle connections, waits for in-flight requests up to
  // shutdown_grace_seconds, then closes everything and joins the io threads. Idempotent.
  void Stop();

 private:
  friend class HttpServerSession;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// An HttpResponse carrying ErrorJson(status) with its HTTP status.
HttpResponse ErrorResponse(const absl::Status& status);

}  // namespace crm::gateway::api
