#pragma once
// A Python message as the C++ side sends it: a str is a text message (its UTF-8, which CPython
// caches in the str), bytes and anything else with the buffer protocol (bytearray, memoryview)
// a binary one. Viewed in place, never copied: the view holds the buffer until it goes. Shared
// by a connection's send, a server's publish and duplex.broadcast, so all three take the same
// types and refuse the others with the same TypeError.
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "server/websocket.h"

namespace duplex::python {

namespace py = pybind11;

class MessageView {
 public:
  // Throws py::error_already_set (a str that is not valid Unicode) or py::type_error.
  explicit MessageView(py::handle message) {
    PyObject* object = message.ptr();
    if (PyUnicode_Check(object)) {
      Py_ssize_t size;
      const char* utf8 = PyUnicode_AsUTF8AndSize(object, &size);
      if (!utf8) throw py::error_already_set();
      data_ = std::string_view(utf8, static_cast<size_t>(size));
      opcode_ = Opcode::Text;
    } else if (PyBytes_Check(object)) {
      data_ = std::string_view(PyBytes_AS_STRING(object),
                               static_cast<size_t>(PyBytes_GET_SIZE(object)));
    } else {
      if (PyObject_GetBuffer(object, &buffer_, PyBUF_SIMPLE) != 0) {
        PyErr_Clear();
        throw py::type_error("data must be str or bytes-like, not " +
                             std::string(Py_TYPE(object)->tp_name));
      }
      buffered_ = true;
      data_ =
          std::string_view(static_cast<const char*>(buffer_.buf), static_cast<size_t>(buffer_.len));
    }
  }
  ~MessageView() {
    if (buffered_) PyBuffer_Release(&buffer_);
  }
  MessageView(const MessageView&) = delete;
  MessageView& operator=(const MessageView&) = delete;

  std::string_view data() const { return data_; }
  Opcode opcode() const { return opcode_; }

 private:
  std::string_view data_;
  Opcode opcode_ = Opcode::Binary;
  Py_buffer buffer_{};
  bool buffered_ = false;
};

}  // namespace duplex::python
