package dev.whack.node.server;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;

/**
 * Netty's epoll event loops, except that a connection that wants no events stays in the epoll set
 * (edge-triggered, so a hang-up or error is reported once) instead of being removed from it.
 *
 * <p>Why: Netty 4.2.18's epoll registration removes the descriptor from the epoll set when a
 * connection's interest becomes empty, but still believes it is there, so the next interest
 * (reading again, or waiting to write because the socket is full) fails with {@code epoll_ctl(..)
 * failed with error(-2): No such file or directory} and the connection is closed. Interest becomes
 * empty after a client half-closes (the input is shut, so neither reading nor read hang-ups are
 * wanted) whenever no write is waiting: a client that half-closed then lost its forwarded answers,
 * and a long reply to it broke off the first time its socket filled (issue 12). Netty 4.1 kept
 * {@code EPOLLET} in every interest set, which is what this does for the empty one.
 *
 * <p>Concurrency: as the wrapped handler; each registration is used on its event loop.
 */
final class EpollKeepRegistered implements IoHandler {
  private final IoHandler epoll;

  private EpollKeepRegistered(IoHandler epoll) {
    this.epoll = epoll;
  }

  /** Wraps each handler the epoll factory makes. */
  static IoHandlerFactory wrap(IoHandlerFactory epoll) {
    return executor -> new EpollKeepRegistered(epoll.newHandler(executor));
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    IoRegistration registration = epoll.register(handle);
    return new IoRegistration() {
      /** Netty has added the descriptor to the epoll set (it adds it with the first interest). */
      private boolean added;

      @Override
      public <T> T attachment() {
        return registration.attachment();
      }

      @Override
      public long submit(IoOps ops) {
        if (!EpollIoOps.NONE.equals(ops)) {
          added = true;
        } else if (added) {
          ops = EpollIoOps.EPOLLET;
        }
        return registration.submit(ops);
      }

      @Override
      public boolean isValid() {
        return registration.isValid();
      }

      @Override
      public boolean cancel() {
        return registration.cancel();
      }
    };
  }

  @Override
  public void initialize() {
    epoll.initialize();
  }

  @Override
  public int run(IoHandlerContext context) {
    return epoll.run(context);
  }

  @Override
  public void prepareToDestroy() {
    epoll.prepareToDestroy();
  }

  @Override
  public void destroy() {
    epoll.destroy();
  }

  @Override
  public void wakeup() {
    epoll.wakeup();
  }

  @Override
  public boolean isCompatible(Class<? extends IoHandle> handleType) {
    return epoll.isCompatible(handleType);
  }
}
