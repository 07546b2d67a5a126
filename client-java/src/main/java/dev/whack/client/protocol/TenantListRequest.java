package dev.whack.client.protocol;

import dev.whack.client.TenantInfo;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tenant list}: {@code TENANT <name> <key>=<value> ...} per tenant, the default one first,
 * then {@code END}. Keys the client does not know are passed over (a newer node may add some).
 */
public final class TenantListRequest extends Request<List<TenantInfo>> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private static final String PREFIX = "TENANT ";
  private final List<TenantInfo> tenants = new ArrayList<>();

  @Override
  public String command() {
    return "tenant list";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "tenant list\r\n");
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (Lines.consume(in, END)) {
        return succeed(List.copyOf(tenants));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      if (!line.startsWith(PREFIX)) {
        if (tenants.isEmpty()) {
          return errorOrCorrupt(line);
        }
        throw unexpected(line);
      }
      tenants.add(tenant(line));
    }
  }

  private TenantInfo tenant(String line) {
    String[] fields = line.split(" ");
    if (fields.length < 2) {
      throw unexpected(line);
    }
    Map<String, Long> values = new HashMap<>();
    for (int i = 2; i < fields.length; i++) {
      int eq = fields[i].indexOf('=');
      if (eq < 0) {
        throw unexpected(line);
      }
      try {
        values.put(fields[i].substring(0, eq), Long.parseLong(fields[i].substring(eq + 1)));
      } catch (NumberFormatException e) {
        throw unexpected(line);
      }
    }
    return new TenantInfo(
        fields[1],
        values.getOrDefault("memory", 0L),
        values.getOrDefault("segments", 0L).intValue(),
        values.getOrDefault("rate", 0L),
        values.getOrDefault("items", 0L),
        values.getOrDefault("bytes", 0L),
        values.getOrDefault("limit_maxbytes", 0L),
        values.getOrDefault("segments_defined", 0L).intValue(),
        values.getOrDefault("connections", 0L).intValue(),
        values.getOrDefault("over_rate", 0L),
        values.getOrDefault("paused", 0L));
  }
}
