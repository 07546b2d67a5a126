package dev.whack.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * SIGHUP, the signal operators send a daemon to read its files again (memcached reloads its auth
 * file and certificates on it). A handler installed before this one (another part of the node may
 * want the signal too) is chained: it runs after ours.
 *
 * <p>The JDK's only signal API is {@code sun.misc.Signal} (module jdk.unsupported); javac warns on
 * every reference to it, a warning no annotation silences and this build treats as an error, so it
 * is reached by reflection, once, at start-up.
 */
final class Reload {
  private Reload() {}

  /** Runs {@code reload} on each SIGHUP; where there is no such signal or API, does nothing. */
  static void onHangUp(Runnable reload) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Object hup = signalClass.getConstructor(String.class).newInstance("HUP");
      Object ignore = handlerClass.getField("SIG_IGN").get(null);
      Object byDefault = handlerClass.getField("SIG_DFL").get(null);
      Method handleSignal = handlerClass.getMethod("handle", signalClass);
      Object[] previous = new Object[1];
      Object handler =
          Proxy.newProxyInstance(
              Reload.class.getClassLoader(),
              new Class<?>[] {handlerClass},
              (proxy, method, args) -> {
                if (!method.getName().equals("handle")) {
                  return method.invoke(reload, args); // toString, hashCode, equals
                }
                reload.run();
                Object before = previous[0];
                if (before != null && before != ignore && before != byDefault) {
                  handleSignal.invoke(before, args[0]);
                }
                return null;
              });
      previous[0] =
          signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, hup, handler);
    } catch (ReflectiveOperationException e) {
      Throwable cause = e instanceof InvocationTargetException t ? t.getCause() : e;
      System.err.println("whack node: no SIGHUP reload here: " + cause);
    }
  }
}
