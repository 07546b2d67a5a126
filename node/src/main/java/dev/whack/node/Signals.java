package dev.whack.node;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Runs an action when the process receives a POSIX signal (TERM, INT, HUP...), through the JDK's
 * {@code sun.misc.Signal} from the jdk.unsupported module, the only way a JVM has to handle one.
 * Reached reflectively: javac warns of every direct use of {@code sun.misc} as "internal
 * proprietary API", which this build turns into an error.
 *
 * <p>A handled signal no longer does what the JVM does by default (TERM and INT run the shutdown
 * hooks and exit 143 and 130): the action decides. Actions run on a thread of the JVM's own, one at
 * a time. A signal has one handler: a second {@code on} for it replaces the first (the JVM's own
 * handler is never chained: it would end the process), so each signal has one owner in the node:
 * TERM and INT the {@code whack node} command, HUP {@link Hangup}, which runs every reload
 * registered with it.
 */
public final class Signals {
  private Signals() {}

  /**
   * Handles signal {@code name} (without "SIG") with {@code action}.
   *
   * @throws IllegalStateException when this JVM cannot handle it (no jdk.unsupported, or a signal
   *     the JVM keeps for itself)
   */
  public static void on(String name, Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      InvocationHandler calls =
          (proxy, method, args) -> {
            if (method.getName().equals("handle")) {
              action.run();
              return null;
            }
            return objectMethod(proxy, method, args);
          };
      Object proxy =
          Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handler}, calls);
      Object sig = signal.getConstructor(String.class).newInstance(name);
      signal.getMethod("handle", signal, handler).invoke(null, sig, proxy);
    } catch (ReflectiveOperationException | RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException("cannot handle SIG" + name + ": " + cause.getMessage(), e);
    }
  }

  private static Object objectMethod(Object proxy, Method method, Object[] args) {
    return switch (method.getName()) {
      case "equals" -> proxy == args[0];
      case "hashCode" -> System.identityHashCode(proxy);
      default -> "Signals handler";
    };
  }
}
