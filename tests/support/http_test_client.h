#pragma once
// A blocking HTTP/1.1 client over one loopback connection, for tests of the
// gateway's HTTP server: raw requests in, parsed responses out.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>

namespace crm::test_support {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class HttpTestClient {
 public:
  explicit HttpTestClient(int port) : socket_(ioc_) {
    socket_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                   static_cast<unsigned short>(port)));
  }
  void Send(const std::string& raw) { boost::asio::write(socket_, boost::asio::buffer(raw)); }
  HttpResponse Read() {
    HttpResponse res;
    boost::beast::http::read(socket_, buffer_, res);
    return res;
  }
  HttpResponse RoundTrip(const std::string& raw) {
    Send(raw);
    return Read();
  }
  // True when the server closed the connection (EOF or reset) instead of sending more.
  bool PeerClosed() {
    boost::beast::error_code ec;
    HttpResponse res;
    boost::beast::http::read(socket_, buffer_, res, ec);
    return ec == boost::beast::http::error::end_of_stream || ec == boost::asio::error::eof ||
           ec == boost::asio::error::connection_reset;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace crm::test_support
