#include "services/gateway/api/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/observability/log.h"
#include "services/gateway/api/rest_errors.h"

namespace crm::gateway::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::chrono::seconds kLingerTime{2};
constexpr size_t kMaxLingerBytes = 64u << 20;

// Guards Responders that outlive the server: once `alive` is false they do nothing.
struct Life {
  std::mutex mu;
  bool alive = true;
};

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == beast::error_code(http::error::bad_method).category();
}

}  // namespace

class HttpServerSession;

struct HttpServer::Impl {
  Impl(HttpServerOptions o, HeadHandler h)
      : options(std::move(o)),
        handler(std::move(h)),
        ioc(options.threads),
        acceptor(net::make_strand(ioc)),
        accept_retry(acceptor.get_executor()) {}

  void DoAccept();
  void Unregister(HttpServerSession* s) {
    std::lock_guard<std::mutex> lock(mu);
    sessions.erase(s);
  }
  size_t SessionCount() {
    std::lock_guard<std::mutex> lock(mu);
    return sessions.size();
  }

  HttpServerOptions options;
  HeadHandler handler;
  net::io_context ioc;  // declared before everything that uses it
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};
  std::shared_ptr<Life> life = std::make_shared<Life>();
  std::mutex mu;
  std::map<HttpServerSession*, std::shared_ptr<HttpServerSession>> sessions;  // guarded by mu
  std::mutex stop_mu;
  bool started = false;
  bool stopped = false;
  int port = 0;
};

class HttpServerSession : public std::enable_shared_from_this<HttpServerSession> {
 public:
  HttpServerSession(tcp::socket socket, HttpServer::Impl* server)
      : server_(server), stream_(std::move(socket)) {
    beast::error_code ec;
    tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string();
  }

  void Run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpServerSession::ReadHeader, shared_from_this()));
  }

  // Any thread.
  void PostResponse(HttpResponse response) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), response = std::move(response)]() mutable {
                self->Respond(std::move(response));
              });
  }
  void PostCloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->state_ == State::kReading) self->Close();
    });
  }
  void PostClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kReading, kHandling, kWriting, kLingering };

  std::chrono::seconds IdleTimeout() const {
    return std::chrono::seconds(std::max(1, server_->options.idle_timeout_seconds));
  }

  void ReadHeader() {
    if (closed_) return;
    if (server_->stopping) {
      Close();
      return;
    }
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(static_cast<std::uint64_t>(server_->options.max_body_bytes));
    stream_.expires_after(IdleTimeout());
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&HttpServerSession::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (closed_) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    Dispatch();
  }

  // Any thread: a BodyReader call for request number `seq`.
  void PostReadBody(uint64_t seq, std::function<void(std::string)> done) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), seq, done = std::move(done)]() mutable {
                self->StartBodyRead(seq, std::move(done));
              });
  }

  void StartBodyRead(uint64_t seq, std::function<void(std::string)> done) {
    // Only once, and only for the request being handled (not an answered one).
    if (closed_ || state_ != State::kHandling || seq != request_seq_ || body_requested_) return;
    body_requested_ = true;
    body_done_ = std::move(done);
    if (parser_->is_done()) {
      DeliverBody();
      return;
    }
    reading_body_ = true;
    stream_.expires_after(IdleTimeout());
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      continue_in_flight_ = true;
      net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                       [self = shared_from_this()](beast::error_code wec, std::size_t) {
                         self->continue_in_flight_ = false;
                         if (self->closed_) return;
                         if (wec) {
                           self->Close();
                         } else if (self->pending_response_) {
                           // Answered during the 100 Continue: answer now, unread.
                           self->reading_body_ = false;
                           HttpResponse r = std::move(*self->pending_response_);
                           self->pending_response_.reset();
                           self->Respond(std::move(r));
                         } else {
                           self->ReadBody();
                         }
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (closed_) return;
    stream_.expires_after(IdleTimeout());
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpServerSession::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, std::size_t) {
    reading_body_ = false;
    if (closed_) return;
    // Answered while the body was on its way: that answer closes the connection.
    if (state_ != State::kHandling) return;
    stream_.expires_never();
    if (ec) {
      body_done_ = nullptr;  // the handler's continuation never runs
      OnReadError(ec);
      return;
    }
    DeliverBody();
  }

  void DeliverBody() {
    std::function<void(std::string)> done = std::move(body_done_);
    body_done_ = nullptr;
    std::string body = std::move(parser_->get().body());
    try {
      done(std::move(body));
    } catch (const std::exception& e) {
      CRM_LOG(Error) << "http handler threw: " << observability::ExceptionSummary(e);
      if (auto r = responder_.lock()) {
        r->Deliver(ErrorResponse(absl::InternalError("internal error")));
      }
    } catch (...) {
      CRM_LOG(Error) << "http handler threw a non-std exception";
      if (auto r = responder_.lock()) {
        r->Deliver(ErrorResponse(absl::InternalError("internal error")));
      }
    }
  }

  void OnReadError(const beast::error_code& ec) {
    if (ec == http::error::header_limit) {
      SendError(431, common::WithReason(absl::ResourceExhaustedError(absl::StrCat(
                                            "request headers exceed ",
                                            server_->options.max_header_bytes, " bytes")),
                                        kReasonHeadersTooLarge));
      return;
    }
    if (ec == http::error::body_limit) {
      SendError(413, common::WithReason(
                         absl::ResourceExhaustedError(absl::StrCat(
                             "request body exceeds ", server_->options.max_body_bytes, " bytes")),
                         kReasonBodyTooLarge));
      return;
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        !IsHttpParseError(ec)) {
      Close();  // peer closed, timeout, reset, or shutdown
      return;
    }
    SendError(400, common::WithReason(absl::InvalidArgumentError(
                                          absl::StrCat("malformed HTTP request: ", ec.message())),
                                      kReasonMalformedRequest));
  }

  // The head is read: hand it to the handler, which may ask for the body.
  void Dispatch() {
    state_ = State::kHandling;
    stream_.expires_never();
    const http::request<http::string_body>& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    ++request_seq_;
    body_requested_ = false;

    HttpRequest req;
    req.method = std::string(msg.method_string());
    const std::string target(msg.target());
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    for (const auto& field : msg) {
      req.headers.emplace_back(absl::AsciiStrToLower(std::string(field.name_string())),
                               std::string(field.value()));
    }
    req.remote_address = remote_address_;

    counted_ = true;
    ++server_->in_flight;
    auto state = std::make_shared<ResponderState>(weak_from_this(), server_->life);
    responder_ = state;
    Responder responder = [state](HttpResponse r) { state->Deliver(std::move(r)); };
    BodyReader read_body = [weak = weak_from_this(),
                            seq = request_seq_](std::function<void(std::string)> done) {
      if (std::shared_ptr<HttpServerSession> self = weak.lock()) {
        self->PostReadBody(seq, std::move(done));
      }
    };
    try {
      server_->handler(std::move(req), std::move(read_body), std::move(responder));
    } catch (const std::exception& e) {
      CRM_LOG(Error) << "http handler threw: " << observability::ExceptionSummary(e);
      state->Deliver(ErrorResponse(absl::InternalError("internal error")));
    } catch (...) {
      CRM_LOG(Error) << "http handler threw a non-std exception";
      state->Deliver(ErrorResponse(absl::InternalError("internal error")));
    }
  }

  void Respond(HttpResponse r) {
    if (closed_ || state_ != State::kHandling) return;
    if (continue_in_flight_) {  // one write at a time: after the 100 Continue
      pending_response_ = std::move(r);
      return;
    }
    responder_.reset();
    body_done_ = nullptr;
    bool close = !keep_alive_ || server_->stopping;
    // Answered before the body was read (or while it was): its bytes are
    // still coming, so this connection cannot carry another request.
    const bool body_unread = parser_ && !parser_->is_done();
    if (body_unread) close = true;
    std::vector<std::pair<std::string, std::string>> headers;
    headers.reserve(r.headers.size());
    for (auto& [name, value] : r.headers) {
      if (beast::iequals(name, "connection")) {
        if (beast::iequals(value, "close")) close = true;
        continue;
      }
      if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding")) {
        continue;
      }
      headers.emplace_back(std::move(name), std::move(value));
    }
    // Linger (discard what the client still sends, so it reads the answer
    // rather than a reset) unless a body read is in flight: Close ends it.
    Write(r.status, std::move(headers), std::move(r.body), close,
          /*linger=*/body_unread && !reading_body_);
  }

  void SendError(int status, const absl::Status& error) {
    version_ = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    Write(status, {{"content-type", "application/json"}}, ErrorJson(error, status),
          /*close=*/true, /*linger=*/true);
  }

  void Write(int status, std::vector<std::pair<std::string, std::string>> headers, std::string body,
             bool close, bool linger) {
    if (status < 100 || status > 999) status = 500;
    res_ = http::response<http::string_body>();
    res_.version(version_);
    res_.result(static_cast<unsigned>(status));
    const bool no_body = status < 200 || status == 204 || status == 304;
    bool has_content_type = false;
    for (auto& [name, value] : headers) {
      if (beast::iequals(name, "content-type")) has_content_type = true;
      res_.insert(name, value);
    }
    if (no_body) {
      body.clear();
    } else if (!has_content_type) {
      res_.set(http::field::content_type, "application/json");
    }
    res_.body() = std::move(body);
    res_.keep_alive(!close);
    res_.prepare_payload();
    close_after_write_ = close;
    linger_ = linger;
    state_ = State::kWriting;
    stream_.expires_after(IdleTimeout());
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&HttpServerSession::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    if (counted_) {
      counted_ = false;
      --server_->in_flight;
    }
    if (closed_) return;
    if (ec) {
      Close();
      return;
    }
    if (close_after_write_) {
      if (linger_) {
        Linger();
      } else {
        Close();
      }
      return;
    }
    ReadHeader();
  }

  // After an error answer with unread request bytes: stop sending and discard what the
  // client still sends for a moment, so it reads our answer instead of a reset.
  void Linger() {
    state_ = State::kLingering;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTime);
    linger_buffer_.resize(16 << 10);
    LingerRead();
  }
  void LingerRead() {
    stream_.async_read_some(net::buffer(linger_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->closed_ || self->lingered_ > kMaxLingerBytes) {
                                self->Close();
                              } else {
                                self->LingerRead();
                              }
                            });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    body_done_ = nullptr;
    responder_.reset();
    if (counted_) {
      counted_ = false;
      --server_->in_flight;
    }
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    server_->Unregister(this);
  }

  struct ResponderState {
    ResponderState(std::weak_ptr<HttpServerSession> s, std::shared_ptr<Life> l)
        : session(std::move(s)), life(std::move(l)) {}
    ~ResponderState() {
      if (!done.load()) {
        Deliver(ErrorResponse(absl::InternalError("the request was dropped without an answer")));
      }
    }
    void Deliver(HttpResponse r) {
      if (done.exchange(true)) return;
      std::lock_guard<std::mutex> lock(life->mu);
      if (!life->alive) return;
      if (std::shared_ptr<HttpServerSession> s = session.lock()) s->PostResponse(std::move(r));
    }
    std::weak_ptr<HttpServerSession> session;
    std::shared_ptr<Life> life;
    std::atomic<bool> done{false};
  };

  HttpServer::Impl* server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;  // kept until the next request
  std::weak_ptr<ResponderState> responder_;  // of the request being handled (not owned:
                                             // a dropped Responder must still answer 500)
  std::function<void(std::string)> body_done_;  // the handler's body continuation
  uint64_t request_seq_ = 0;                   // requests dispatched on this connection
  bool body_requested_ = false;
  bool reading_body_ = false;      // from the BodyReader call until the body is read
  bool continue_in_flight_ = false;  // writing "100 Continue"
  std::optional<HttpResponse> pending_response_;  // answered during that write
  http::response<http::string_body> res_;
  std::string remote_address_;
  std::vector<char> linger_buffer_;
  size_t lingered_ = 0;
  State state_ = State::kReading;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool close_after_write_ = false;
  bool linger_ = false;
  bool counted_ = false;
  bool closed_ = false;
};

void HttpServer::Impl::DoAccept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      CRM_LOG(Warning) << "http accept failed: " << ec.message();
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](beast::error_code wec) {
        if (!wec && !stopping) DoAccept();
      });
      return;
    }
    auto session = std::make_shared<HttpServerSession>(std::move(socket), this);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return;  // the socket closes with `session`
      sessions.emplace(session.get(), session);
    }
    session->Run();
    DoAccept();
  });
}

std::string HttpRequest::Header(absl::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

HttpResponse ErrorResponse(const absl::Status& status) {
  HttpResponse r;
  r.status = HttpStatusForError(status);
  r.headers.emplace_back("content-type", "application/json");
  r.body = ErrorJson(status, r.status);
  return r;
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : HttpServer(std::move(options),
                 HeadHandler([handler = std::move(handler)](HttpRequest req, BodyReader read_body,
                                                            Responder respond) {
                   read_body([handler, req = std::move(req),
                              respond = std::move(respond)](std::string body) mutable {
                     req.body = std::move(body);
                     handler(std::move(req), std::move(respond));
                   });
                 })) {}

HttpServer::HttpServer(HttpServerOptions options, HeadHandler handler) {
  if (options.threads < 1) options.threads = 1;
  impl_ = std::make_shared<Impl>(std::move(options), std::move(handler));
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port; }

absl::Status HttpServer::Start() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> stop_lock(s.stop_mu);
  if (s.started) return absl::FailedPreconditionError("http server already started");
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(s.options.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid listen address \"", s.options.address, "\""));
  }
  if (s.options.port < 0 || s.options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("invalid port ", s.options.port));
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(s.options.port));
  const std::string where = absl::StrCat(s.options.address, ":", s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", where, ": ", ec.message()));
  }
  s.port = s.acceptor.local_endpoint(ec).port();
  s.started = true;
  s.work.emplace(net::make_work_guard(s.ioc));
  s.DoAccept();
  for (int i = 0; i < s.options.threads; ++i) {
    s.threads.emplace_back([&s] {
      while (true) {
        try {
          s.ioc.run();
          return;
        } catch (const std::exception& e) {
          CRM_LOG(Error) << "http io thread: " << observability::ExceptionSummary(e);
        }
      }
    });
  }
  CRM_LOG(Info) << "http server listening on " << s.options.address << ":" << s.port;
  return absl::OkStatus();
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> stop_lock(s.stop_mu);
  if (!s.started || s.stopped) return;
  s.stopped = true;

  std::vector<std::shared_ptr<HttpServerSession>> snapshot;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stopping = true;
    for (auto& [ptr, session] : s.sessions) snapshot.push_back(session);
  }
  net::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
    s.accept_retry.cancel();
  });
  for (auto& session : snapshot) session->PostCloseIfIdle();
  snapshot.clear();

  using Clock = std::chrono::steady_clock;
  const Clock::time_point grace_end =
      Clock::now() + std::chrono::seconds(std::max(0, s.options.shutdown_grace_seconds));
  while (s.in_flight.load() > 0 && Clock::now() < grace_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto& [ptr, session] : s.sessions) snapshot.push_back(session);
  }
  for (auto& session : snapshot) session->PostClose();
  snapshot.clear();
  const Clock::time_point close_end = Clock::now() + std::chrono::seconds(1);
  while (s.SessionCount() > 0 && Clock::now() < close_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  {
    std::lock_guard<std::mutex> lock(s.life->mu);
    s.life->alive = false;
  }
  s.work.reset();
  s.ioc.stop();
  for (std::thread& t : s.threads) t.join();
  s.threads.clear();
  std::lock_guard<std::mutex> lock(s.mu);
  s.sessions.clear();
}

}  // namespace crm::gateway::api
