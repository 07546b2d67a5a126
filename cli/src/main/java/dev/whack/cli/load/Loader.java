package dev.whack.cli.load;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.whack.cli.records.BadRecordException;
import dev.whack.cli.records.Input;
import dev.whack.cli.records.ItemBody;
import dev.whack.cli.records.Record;
import dev.whack.cli.records.RecordReader;
import dev.whack.client.BulkWriter;
import dev.whack.client.ConnectionClosedException;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.ServerErrorException;
import dev.whack.client.UpdateResult;
import dev.whack.client.WhackClient;
import dev.whack.client.WhackTimeoutException;
import dev.whack.client.grpc.GrpcBulkWriter;
import dev.whack.client.grpc.ItemRefusedException;
import dev.whack.client.protocol.Keys;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.json.UpdateJson;
import dev.whack.proto.Profile;
import dev.whack.proto.SegmentDefinition;
import dev.whack.proto.Update;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Loads record streams into a cluster: each record is framed by its reader, routed by the ring to
 * its key's owner and pipelined through the client's {@link BulkWriter}, which keeps a bounded
 * number of writes in flight and keeps each key's writes in order (so a stream that mixes a profile
 * and its updates applies them as written).
 *
 * <p>Or, with {@link Settings#grpc}, sent to one node's gRPC port through a {@link GrpcBulkWriter}:
 * its {@code Ingest} stream carries profiles and updates only, as protobuf messages, so JSON bodies
 * are read here with the node's own Profile and Update JSON readers (a body they reject is a bad
 * record found here), profiles are stored as protobuf Profiles, and an item or segment record is a
 * bad record naming why. The node applies a stream's items in order, so each key's order holds.
 *
 * <p>Bad records. A record that cannot be framed (not JSON, no key, a bad key, a truncated
 * protobuf) is found here, before anything of it is sent. A record whose body the node rejects
 * ({@code CLIENT_ERROR bad profile: ...}) is found when its reply arrives; the node applies nothing
 * of it. Either way it is reported with its line or offset and reason, then skipped and counted
 * ({@link Settings#skipBad}) or the load stops: nothing is sent after a bad record found here, and
 * after one rejected by the node only the records already in flight behind it (at most {@link
 * Settings#maxInFlight}) are applied; the summary says how many. {@link Settings#validate} parses
 * every body here with the node's own parser, so that every record the parser would reject stops
 * the load before anything after it is sent.
 *
 * <p>A node that cannot be reached stops the load (it is not a bad record).
 *
 * <p>Concurrency: {@link #run} runs on one thread; replies are counted on the client's I/O threads
 * (gRPC's executor threads for a gRPC load) into adders and atomics, which the progress display
 * reads from its own thread.
 */
public final class Loader {
  /** How profiles are stored on the nodes. */
  public enum StoreAs {
    /** Profile JSON whatever the input: what memcached clients of JSON profiles read back. */
    JSON,
    /** Protobuf Profiles (flags 0x77680001) whatever the input. */
    PROTO,
    /** As the input has them: NDJSON as JSON, protobuf as protobuf, no conversion. */
    AS_READ
  }

  /**
   * @param maxInFlight writes sent and not yet answered, at most
   * @param skipBad skip and count bad records instead of stopping at the first
   * @param validate parse each body with the node's parser before sending it
   * @param dryRun read and check the records, send nothing
   * @param grpc send through a node's gRPC port: profiles and updates only, profiles as protobuf
   */
  public record Settings(
      int maxInFlight,
      boolean skipBad,
      StoreAs storeAs,
      boolean validate,
      boolean dryRun,
      boolean grpc) {}

  /** Told of each bad record, from the loading thread or a client I/O thread. */
  public interface Reporter {
    /**
     * A bad record: {@code ordinal} is its place among the records read (1 for the first), so a
     * reporter can put the reports in input order: a node's refusal arrives when it answers, after
     * records read later may have been reported.
     */
    void badRecord(long ordinal, String input, String where, String reason);
  }

  /** Why a load ended before the end of its inputs. */
  public sealed interface Stop {}

  /** A bad record, not skipped. {@code sentAfter}: records already sent behind it. */
  public record StoppedAtBadRecord(String input, String where, String reason, long sentAfter)
      implements Stop {}

  /** The cluster could not be reached. */
  public record StoppedUnreachable(RuntimeException cause) implements Stop {}

  /** A write failed for another reason than its record (the client refused it, say). */
  public record StoppedByError(RuntimeException cause) implements Stop {}

  /**
   * What a load did.
   *
   * @param read records read, bad ones included
   * @param sent records sent to the nodes
   * @param applied records the nodes acknowledged (including ignored replays)
   * @param ignored updates acknowledged and not applied again (producer sequence already seen)
   * @param profiles profile records sent
   * @param updates update records sent
   * @param items opaque item records sent
   * @param segments segments defined
   * @param skipped bad records skipped
   * @param bytes bytes read from the inputs (compressed, for gzip)
   * @param stop why the load stopped early, or null
   */
  public record Summary(
      long read,
      long sent,
      long applied,
      long ignored,
      long profiles,
      long updates,
      long items,
      long segments,
      long skipped,
      long bytes,
      double seconds,
      Stop stop) {
    public double recordsPerSecond() {
      return seconds <= 0 ? 0 : applied / seconds;
    }
  }

  private final WhackClient client;
  private final GrpcBulkWriter grpc;
  private final Settings settings;
  private final Reporter reporter;

  private final LongAdder applied = new LongAdder();
  private final LongAdder ignored = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final AtomicReference<Stop> stop = new AtomicReference<>();

  /** Index of the record the node rejected first, when not skipping. */
  private volatile long stopIndex = -1;

  private volatile long read;
  private volatile long sent;
  private long profiles;
  private long updates;
  private long items;
  private long segments;
  private long skippedHere;
  private volatile List<Input> inputs = List.of();

  /**
   * Loads through the memcached port.
   *
   * @param client null for a dry run
   */
  public Loader(WhackClient client, Settings settings, Reporter reporter) {
    this(client, null, settings, reporter);
  }

  /**
   * Loads through a node's gRPC port ({@link Settings#grpc}); flushes the writer, never closes it.
   *
   * @param grpc null for a dry run
   */
  public Loader(GrpcBulkWriter grpc, Settings settings, Reporter reporter) {
    this(null, grpc, settings, reporter);
  }

  private Loader(WhackClient client, GrpcBulkWriter grpc, Settings settings, Reporter reporter) {
    if (settings.grpc ? client != null : grpc != null) {
      throw new IllegalArgumentException("a load goes through gRPC or the memcached port");
    }
    this.client = client;
    this.grpc = grpc;
    this.settings = settings;
    this.reporter = reporter;
  }

  /** Records read so far (any thread). */
  public long records() {
    return read;
  }

  /** Bytes read so far from every input (any thread). */
  public long bytesRead() {
    long sum = 0;
    for (Input in : inputs) {
      sum += in.bytesRead();
    }
    return sum;
  }

  /** Loads every input in turn; closes none of them. */
  public Summary run(List<Input> all) throws IOException {
    this.inputs = List.copyOf(all);
    long startNanos = System.nanoTime();
    BulkWriter writer =
        settings.dryRun || settings.grpc
            ? null
            : client.orderedBulkWriter(settings.maxInFlight, null);
    try {
      for (Input input : all) {
        if (!load(input, writer)) {
          break;
        }
      }
    } finally {
      if (writer != null) {
        writer.flush();
      }
      if (grpc != null) {
        grpc.flush();
      }
    }
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    Stop why = stop.get();
    if (why instanceof StoppedAtBadRecord s && stopIndex >= 0) {
      why =
          new StoppedAtBadRecord(
              s.input(), s.where(), s.reason(), Math.max(0, sent - stopIndex - 1));
    }
    long skipped = skippedHere + (settings.skipBad ? rejected.sum() : 0);
    return new Summary(
        read,
        sent,
        applied.sum(),
        ignored.sum(),
        profiles,
        updates,
        items,
        segments,
        skipped,
        bytesRead(),
        seconds,
        why);
  }

  /** False when the load must stop. */
  private boolean load(Input input, BulkWriter writer) throws IOException {
    RecordReader reader = input.reader();
    while (stop.get() == null) {
      Record r;
      ItemBody item = null;
      Message ingest = null;
      boolean counted = false; // a record found bad after it was read is one record read
      try {
        r = reader.next();
        if (r == null) {
          return true;
        }
        read++;
        counted = true;
        if (settings.grpc) {
          ingest = ingestItem(r, reader.where(r.position()));
        } else {
          r = prepare(r, reader);
          if (r.kind() == Record.Kind.ITEM) {
            item = ItemBody.parse(r, reader.where(r.position()));
          }
        }
      } catch (BadRecordException e) {
        if (!counted) {
          read++;
        }
        reporter.badRecord(read, input.name(), e.where(), e.reason());
        if (!settings.skipBad || !e.recoverable()) {
          stop.compareAndSet(null, new StoppedAtBadRecord(input.name(), e.where(), e.reason(), 0));
          return false;
        }
        skippedHere++;
        continue;
      }
      if (writer != null) {
        send(writer, input, reader, r, item);
      } else if (grpc != null) {
        send(input, reader, r, ingest);
      }
    }
    return false;
  }

  /**
   * A record as the item of a gRPC {@code Ingest} stream: its update or profile as protobuf, with
   * its key. Item and segment records have no such form.
   */
  private static Message ingestItem(Record r, String where) throws BadRecordException {
    if (r.kind() == Record.Kind.ITEM || r.kind() == Record.Kind.SEGMENT) {
      throw new BadRecordException(
          where,
          "a"
              + (r.kind() == Record.Kind.ITEM ? "n item" : " segment")
              + " record cannot be loaded with --grpc: a gRPC Ingest stream carries profiles and"
              + " updates only (load it without --grpc)",
          true);
    }
    try {
      Keys.key(r.key());
    } catch (IllegalArgumentException e) {
      throw new BadRecordException(where, "bad key: " + e.getMessage(), true);
    }
    try {
      if (r.kind() == Record.Kind.UPDATE) {
        Update update = r.protobuf() ? Update.parseFrom(r.body()) : UpdateJson.parse(r.body());
        return update.toBuilder().setKey(r.key()).build();
      }
      Profile profile = r.protobuf() ? Profile.parseFrom(r.body()) : ProfileJson.parse(r.body());
      return profile.toBuilder().setKey(r.key()).build();
    } catch (EngineException | InvalidProtocolBufferException e) {
      throw new BadRecordException(where, "bad " + kind(r) + ": " + e.getMessage(), true);
    }
  }

  private void send(Input input, RecordReader reader, Record r, Message ingest) {
    CompletableFuture<?> reply;
    if (ingest instanceof Profile profile) {
      profiles++;
      reply = grpc.setProfile(profile);
    } else {
      updates++;
      reply = grpc.update((Update) ingest);
    }
    long index = sent;
    sent = index + 1;
    long position = r.position();
    long ordinal = read;
    reply.whenComplete(
        (value, failure) -> replied(value, failure, input, reader, position, index, ordinal));
  }

  /** Checks the key, converts a profile's body as asked, validates it if asked. */
  private Record prepare(Record r, RecordReader reader) throws BadRecordException {
    String where = reader.where(r.position());
    if (r.kind() == Record.Kind.SEGMENT) {
      return r; // checked by the node when it is defined
    }
    try {
      Keys.key(r.key());
    } catch (IllegalArgumentException e) {
      throw new BadRecordException(where, "bad key: " + e.getMessage(), true);
    }
    if (r.kind() == Record.Kind.ITEM) {
      return r; // an opaque value: stored as it is, whatever --store-as says
    }
    try {
      if (r.kind() == Record.Kind.UPDATE) {
        if (settings.validate) {
          if (r.protobuf()) {
            Update.parseFrom(r.body());
          } else {
            UpdateJson.parse(r.body());
          }
        }
        return r;
      }
      boolean wantProto =
          settings.storeAs == StoreAs.PROTO
              || (settings.storeAs == StoreAs.AS_READ && r.protobuf());
      if (wantProto && !r.protobuf()) {
        return new Record(
            r.key(), r.kind(), true, ProfileJson.parse(r.body()).toByteArray(), r.position());
      }
      if (!wantProto && r.protobuf()) {
        byte[] json = ProfileJson.write(Profile.parseFrom(r.body()));
        return new Record(r.key(), r.kind(), false, json, r.position());
      }
      if (settings.validate) {
        if (r.protobuf()) {
          Profile.parseFrom(r.body());
        } else {
          ProfileJson.parse(r.body());
        }
      }
      return r;
    } catch (EngineException e) {
      throw new BadRecordException(where, "bad " + kind(r) + ": " + e.getMessage(), true);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new BadRecordException(where, "bad " + kind(r) + ": " + e.getMessage(), true);
    }
  }

  private static String kind(Record r) {
    return switch (r.kind()) {
      case PROFILE -> "profile";
      case UPDATE -> "update";
      case ITEM -> "item";
      case SEGMENT -> "segment";
    };
  }

  private void send(BulkWriter writer, Input input, RecordReader reader, Record r, ItemBody item) {
    if (r.kind() == Record.Kind.SEGMENT) {
      defineSegment(writer, input, reader, r);
      return;
    }
    CompletableFuture<?> reply;
    if (item != null) {
      items++;
      reply = writer.set(r.key(), item.value(), item.flags(), exptime(item.ttlSeconds()));
    } else if (r.kind() == Record.Kind.PROFILE) {
      profiles++;
      reply =
          r.protobuf()
              ? writer.setProfileProtobuf(r.key(), r.body())
              : writer.setProfileJson(r.key(), r.body());
    } else {
      updates++;
      reply =
          r.protobuf()
              ? writer.updateProtobuf(r.key(), r.body())
              : writer.update(r.key(), r.body());
    }
    long index = sent;
    sent = index + 1;
    long position = r.position();
    long ordinal = read;
    reply.whenComplete(
        (value, failure) -> replied(value, failure, input, reader, position, index, ordinal));
  }

  /**
   * memcached's exptime for an item with {@code ttlSeconds} left: relative up to 30 days, an
   * absolute Unix time beyond (memcached reads a larger relative value as a time in 1970).
   */
  static int exptime(long ttlSeconds) {
    if (ttlSeconds <= MAX_RELATIVE_SECONDS) {
      return (int) ttlSeconds;
    }
    long at = System.currentTimeMillis() / 1000 + ttlSeconds;
    return (int) Math.min(at, Integer.MAX_VALUE); // memcached's exptime is a 32-bit int
  }

  private static final long MAX_RELATIVE_SECONDS = 60L * 60 * 24 * 30;

  /**
   * A segment record: everything sent before it is applied first (a segment defined in the middle
   * of a stream sees the profiles before it, as a backfill would), then it is defined on every node
   * before the next record goes out.
   */
  private void defineSegment(BulkWriter writer, Input input, RecordReader reader, Record r) {
    String where = reader.where(r.position());
    String name;
    String expression;
    try {
      if (r.protobuf()) {
        SegmentDefinition d = SegmentDefinition.parseFrom(r.body());
        name = d.getName();
        expression = d.getExpression();
      } else {
        com.fasterxml.jackson.core.JsonParser p =
            new com.fasterxml.jackson.core.JsonFactory().createParser(r.body());
        name = null;
        expression = null;
        p.nextToken();
        while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
          String field = p.currentName();
          p.nextToken();
          switch (field) {
            case "name" -> name = p.getValueAsString();
            case "expression" -> expression = p.getValueAsString();
            default -> throw new IOException("unknown segment member \"" + field + "\"");
          }
        }
      }
      if (name == null || expression == null) {
        throw new IOException("a segment record has \"name\" and \"expression\"");
      }
    } catch (IOException e) {
      reporter.badRecord(read, input.name(), where, "bad segment: " + e.getMessage());
      if (!settings.skipBad) {
        stop.compareAndSet(null, new StoppedAtBadRecord(input.name(), where, e.getMessage(), 0));
      }
      return;
    }
    writer.flush();
    try {
      client.blocking().segments().define(name, expression);
      segments++;
    } catch (ServerErrorException e) {
      rejected.increment();
      reporter.badRecord(read, input.name(), where, e.serverMessage());
      if (!settings.skipBad) {
        stop.compareAndSet(null, new StoppedAtBadRecord(input.name(), where, e.serverMessage(), 0));
      }
    }
  }

  private void replied(
      Object value,
      Throwable failure,
      Input input,
      RecordReader reader,
      long position,
      long index,
      long ordinal) {
    if (failure == null) {
      applied.increment();
      if (value == UpdateResult.IGNORED) {
        ignored.increment();
      }
      return;
    }
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (cause instanceof ServerErrorException rejection) {
      rejected.increment();
      String where = reader.where(position);
      String reason =
          rejection instanceof ItemRefusedException refused
              ? refused.code() + ": " + refused.serverMessage()
              : rejection.serverMessage();
      reporter.badRecord(ordinal, input.name(), where, reason);
      if (!settings.skipBad
          && stop.compareAndSet(null, new StoppedAtBadRecord(input.name(), where, reason, 0))) {
        stopIndex = index;
      }
      return;
    }
    RuntimeException fatal =
        cause instanceof RuntimeException re ? re : new CompletionException(cause);
    if (cause instanceof NodeUnavailableException
        || cause instanceof WhackTimeoutException
        || cause instanceof ConnectionClosedException) {
      stop.compareAndSet(null, new StoppedUnreachable(fatal));
    } else {
      stop.compareAndSet(null, new StoppedByError(fatal));
    }
  }
}
