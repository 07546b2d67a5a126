package dev.whack.client;

import dev.whack.client.protocol.Request;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Pages through every node in ring order with a listing that each node answers for itself ({@code
 * local segdump}, {@code itemdump}): the first page of a node without a cursor, then each cursor it
 * gives until it has none, the next page asked for while the current one is consumed. Consuming
 * blocks for each page (never on an I/O thread) and throws the client's exceptions.
 *
 * <p>Concurrency: one consumer, as any iterator.
 *
 * @param <P> a page as the request parses it
 * @param <E> an element of a page
 */
final class NodePages<P, E> implements Iterator<E> {
  private final WhackClient client;
  private final Function<String, Request<P>> request;
  private final Function<P, List<E>> elements;
  private final Function<P, String> nextCursor;
  private int node;
  private String sentCursor;
  private Request<P> ahead;
  private List<E> page = List.of();
  private int next;

  /**
   * @param request the request for a page from a cursor (null for a node's first page)
   * @param nextCursor a page's cursor of the rest, null when the node has no more
   */
  NodePages(
      WhackClient client,
      Function<String, Request<P>> request,
      Function<P, List<E>> elements,
      Function<P, String> nextCursor) {
    this.client = client;
    this.request = request;
    this.elements = elements;
    this.nextCursor = nextCursor;
    ahead = send(0, null);
  }

  private Request<P> send(int toNode, String cursor) {
    Request<P> r = request.apply(cursor);
    client.nodes().get(toNode).send(r);
    return r;
  }

  @Override
  public boolean hasNext() {
    while (next >= page.size()) {
      if (ahead == null) {
        return false;
      }
      P fetched = client.blocking().await(ahead.future());
      String nodeName = client.nodes().get(node).name();
      List<E> fetchedElements = elements.apply(fetched);
      String cursor = nextCursor.apply(fetched);
      if (fetchedElements.isEmpty() && cursor != null && cursor.equals(sentCursor)) {
        throw new CorruptReplyException(
            nodeName, nodeName + " answered an empty page with the same cursor " + sentCursor);
      }
      if (cursor != null) {
        sentCursor = cursor;
        ahead = send(node, sentCursor);
      } else if (node + 1 < client.nodes().size()) {
        node++;
        sentCursor = null;
        ahead = send(node, null);
      } else {
        ahead = null;
      }
      page = fetchedElements;
      next = 0;
    }
    return true;
  }

  @Override
  public E next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return page.get(next++);
  }
}
