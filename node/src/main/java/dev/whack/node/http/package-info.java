/**
 * The REST read API (docs/http.md): an HTTP/1.1 port of its own, on Netty's HTTP codec, answering
 * reads of profiles and segments for the whole cluster with the calls the other front ends use.
 * {@link dev.whack.node.http.RequestTarget} reads a request's path and parameters, {@link
 * dev.whack.node.http.Route} names what it asks, {@link dev.whack.node.http.HttpApi} answers it,
 * {@link dev.whack.node.http.HttpConnection} frames the answers in request order and {@link
 * dev.whack.node.http.HttpApiServer} is the port.
 */
package dev.whack.node.http;
