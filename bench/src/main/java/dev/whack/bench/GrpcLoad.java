package dev.whack.bench;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.whack.node.engine.json.UpdateJson;
import dev.whack.proto.Attribute;
import dev.whack.proto.IdRange;
import dev.whack.proto.IngestReply;
import dev.whack.proto.SegmentChange;
import dev.whack.proto.SubscribeReply;
import dev.whack.proto.SubscribeRequest;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import dev.whack.proto.WhackGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The P2 update stream through the gRPC port (issue 17): the same keys and the same update pool as
 * {@link ProfileLoad} (its JSON bodies read into protobuf {@code Update}s by the node's own reader,
 * once), sent on {@code Ingest} streams with a fixed number of items in flight each, every item
 * timed from its send to the acknowledgement that covers it. With {@code watch}, one item in {@link
 * ProfileLoad#FLIP_EVERY} sets {@code flag} on a new key, and a {@code Subscribe} to the {@code
 * flip} segment times the change from the item's acknowledgement (P7's pairing).
 */
final class GrpcLoad {
  private static final Update FLIP_UPDATE =
      Update.newBuilder()
          .addSet(
              Attribute.newBuilder()
                  .setName("flag")
                  .setValue(Value.newBuilder().setBoolValue(true)))
          .build();

  private final int profiles;

  /** The update pool, each serialized without its key (the key goes in front per item). */
  private final byte[][] updates;

  private static final byte[] FLIP_BYTES = FLIP_UPDATE.toByteArray();

  /**
   * Ingest with requests sent as the bytes {@link #request} writes: a generator that builds
   * protobuf-java objects per item spends more of the shared cores than the memcached one does
   * writing its pre-built bodies, and that would be charged to the node's figure.
   */
  private static final MethodDescriptor<byte[], IngestReply> INGEST =
      WhackGrpc.getIngestMethod().toBuilder(
              new MethodDescriptor.Marshaller<byte[]>() {
                @Override
                public InputStream stream(byte[] value) {
                  return new ByteArrayInputStream(value);
                }

                @Override
                public byte[] parse(InputStream stream) {
                  throw new UnsupportedOperationException("requests are only sent");
                }
              },
              WhackGrpc.getIngestMethod().getResponseMarshaller())
          .build();

  private final boolean watch;
  private final String flipPrefix = "flip:" + Long.toString(System.currentTimeMillis(), 36) + ":";
  private final ChangeDelays changeDelays = new ChangeDelays();
  private final AtomicLong refused = new AtomicLong();

  /** Items per request: 1 sends each alone, more sends them as a request's {@code items}. */
  private final int batch;

  GrpcLoad(int profiles, long nowMillis, boolean watch, int batch) {
    this.profiles = profiles;
    this.watch = watch;
    this.batch = Math.max(1, batch);
    byte[][] pool = ProfileLoad.updatePool(new ProfileWorkload(nowMillis));
    this.updates = new byte[pool.length][];
    for (int i = 0; i < pool.length; i++) {
      updates[i] = UpdateJson.parse(pool[i]).toByteArray();
    }
  }

  /** Items the node refused (counted as answered; the first is printed). */
  long refused() {
    return refused.get();
  }

  Histogram changeDelays() {
    return changeDelays.histogram();
  }

  /**
   * Runs {@code streams} Ingest streams over {@code channels} connections, {@code inFlight} items
   * in flight on each, for the warm-up and then the measured time.
   */
  PipelinedLoad.Result run(
      String host,
      int port,
      int channels,
      int streams,
      int inFlight,
      long warmupMillis,
      long durationMillis,
      long seed,
      double rate)
      throws Exception {
    List<ManagedChannel> open = new ArrayList<>();
    for (int c = 0; c < channels; c++) {
      // Answers are handled on the connection's event loop: one thread hop less per reply for a
      // generator whose callbacks only record times and send the next request.
      open.add(NettyChannelBuilder.forAddress(host, port).usePlaintext().directExecutor().build());
    }
    ClientCallStreamObserver<SubscribeRequest> subscription = watch ? subscribe(open.get(0)) : null;
    Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 3);
    AtomicLong measured = new AtomicLong();
    long start = System.nanoTime();
    long measureFrom = start + TimeUnit.MILLISECONDS.toNanos(warmupMillis);
    long end = measureFrom + TimeUnit.MILLISECONDS.toNanos(durationMillis);
    CountDownLatch done = new CountDownLatch(streams);
    List<Stream> all = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      Stream stream =
          new Stream(
              s,
              inFlight,
              new SplittableRandom(seed + s),
              measureFrom,
              end,
              latency,
              measured,
              done);
      stream.paced = rate > 0;
      all.add(stream);
      stream.requests =
          ClientCalls.asyncBidiStreamingCall(
              open.get(s % channels).newCall(INGEST, CallOptions.DEFAULT), stream);
    }
    if (rate <= 0) {
      for (Stream s : all) {
        s.fill(Integer.MAX_VALUE);
      }
    } else {
      pace(all, rate, start, end);
    }
    if (!done.await(warmupMillis + durationMillis + 60_000, TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("Ingest streams did not finish within a minute of the end");
    }
    double seconds = durationMillis / 1000.0;
    if (subscription != null) {
      Thread.sleep(500); // the last flips' changes
      subscription.cancel("the run is over", null);
    }
    for (ManagedChannel c : open) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    return new PipelinedLoad.Result(measured.get(), seconds, latency);
  }

  /**
   * Sends at {@code rate} items per second over all streams (each still at most {@code inFlight}
   * unanswered), from this thread, until the end; then half-closes them.
   */
  private static void pace(List<Stream> streams, double rate, long start, long end) {
    long sent = 0;
    int next = 0;
    while (true) {
      long now = System.nanoTime();
      if (now >= end) {
        break;
      }
      long due = (long) ((now - start) / 1e9 * rate);
      long mostBehind = (long) Math.max(1, rate / 100);
      if (due - sent > mostBehind) {
        sent = due - mostBehind; // the node was behind: no burst to make up for it later
      }
      for (int tried = 0; sent < due && tried < streams.size(); ) {
        Stream s = streams.get(next);
        next = (next + 1) % streams.size();
        if (s.fill(1) == 1) {
          sent++;
          tried = 0;
        } else {
          tried++;
        }
      }
      java.util.concurrent.locks.LockSupport.parkNanos(50_000);
    }
    for (Stream s : streams) {
      s.fill(0);
    }
  }

  private ClientCallStreamObserver<SubscribeRequest> subscribe(ManagedChannel channel)
      throws InterruptedException {
    CountDownLatch started = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicReference<ClientCallStreamObserver<SubscribeRequest>> call =
        new java.util.concurrent.atomic.AtomicReference<>();
    WhackGrpc.newStub(channel)
        .subscribe(
            SubscribeRequest.newBuilder().addSegments("flip").build(),
            new ClientResponseObserver<SubscribeRequest, SubscribeReply>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<SubscribeRequest> c) {
                call.set(c);
                started.countDown();
              }

              @Override
              public void onNext(SubscribeReply reply) {
                long now = System.nanoTime();
                for (SegmentChange c : reply.getChangesList()) {
                  if (c.getKind() == SegmentChange.Kind.ENTER) {
                    changeDelays.changed(c.getKey(), now);
                  }
                }
              }

              @Override
              public void onError(Throwable t) {
                // cancelled at the end of the run, or the node went away: the figures say so
              }

              @Override
              public void onCompleted() {}
            });
    started.await();
    Thread.sleep(200); // the node has the subscription before the first flip
    return call.get();
  }

  /**
   * One request's bytes, written once into one array: a single item as the request's own fields
   * (its id, and an Update of the key followed by the rest's fields), several as {@code items}
   * entries of those same fields, with ids from {@code firstId} on.
   */
  static byte[] request(long firstId, byte[][] keys, byte[][] rests, int n) {
    int size = 0;
    for (int i = 0; i < n; i++) {
      int item = itemSize(firstId + i, keys[i], rests[i]);
      size += n == 1 ? item : CodedOutputStream.computeTagSize(4) + varintSize(item) + item;
    }
    byte[] out = new byte[size];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      for (int i = 0; i < n; i++) {
        long id = firstId + i;
        if (n > 1) {
          o.writeTag(4, WireFormat.WIRETYPE_LENGTH_DELIMITED);
          o.writeUInt32NoTag(itemSize(id, keys[i], rests[i]));
        }
        o.writeUInt64(1, id);
        o.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        o.writeUInt32NoTag(updateSize(keys[i], rests[i]));
        o.writeByteArray(1, keys[i]);
        o.writeRawBytes(rests[i]);
      }
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static int itemSize(long id, byte[] key, byte[] rest) {
    int update = updateSize(key, rest);
    return CodedOutputStream.computeUInt64Size(1, id)
        + CodedOutputStream.computeTagSize(2)
        + varintSize(update)
        + update;
  }

  private static int updateSize(byte[] key, byte[] rest) {
    return CodedOutputStream.computeByteArraySize(1, key) + rest.length;
  }

  private static int varintSize(int value) {
    return CodedOutputStream.computeUInt32SizeNoTag(value);
  }

  /**
   * One Ingest stream: keeps {@code inFlight} items unanswered, sending one for each answered until
   * the end, then half-closes and waits for the last answers. Sends happen under the stream's lock
   * (the first fill on the caller's thread, the rest on gRPC's as answers come).
   */
  private final class Stream implements StreamObserver<IngestReply> {
    private final int index;
    private final int inFlight;
    private final SplittableRandom random;
    private final long measureFrom;
    private final long end;
    private final Histogram latency;
    private final AtomicLong measured;
    private final CountDownLatch done;

    /** Send time of each id in flight, by id modulo the window (ids are sent in order). */
    private final long[] sentAt;

    /** Flip key of each id in flight, or null. */
    private final String[] flips;

    /** The keys and update bodies of the request being written (reused). */
    private final byte[][] keys;

    private final byte[][] rests;

    StreamObserver<byte[]> requests;

    /** Sent by the pacing thread: an answer only frees a place (and ends the stream at the end). */
    boolean paced;

    private long nextId;
    private long flipSeq;
    private int unanswered;
    private boolean closed;

    Stream(
        int index,
        int inFlight,
        SplittableRandom random,
        long measureFrom,
        long end,
        Histogram latency,
        AtomicLong measured,
        CountDownLatch done) {
      this.index = index;
      this.inFlight = inFlight;
      this.random = random;
      this.measureFrom = measureFrom;
      this.end = end;
      this.latency = latency;
      this.measured = measured;
      this.done = done;
      this.sentAt = new long[inFlight];
      this.flips = new String[inFlight];
      this.keys = new byte[inFlight][];
      this.rests = new byte[inFlight][];
    }

    /**
     * Sends up to {@code most} items while fewer than {@code inFlight} are unanswered, or
     * half-closes the stream once the run is over; returns how many it sent.
     */
    synchronized int fill(int most) {
      long now = System.nanoTime();
      if (now >= end) {
        if (!closed) {
          closed = true;
          requests.onCompleted();
        }
        return 0;
      }
      int count = 0;
      while (unanswered < inFlight && count < most) {
        int n = Math.min(batch, Math.min(most - count, inFlight - unanswered));
        long firstId = nextId;
        for (int i = 0; i < n; i++) {
          long id = nextId++;
          int slot = (int) (id % inFlight);
          if (watch && random.nextInt(ProfileLoad.FLIP_EVERY) == 0) {
            String key = flipPrefix + index + ":" + (++flipSeq);
            flips[slot] = key;
            keys[i] = key.getBytes(StandardCharsets.UTF_8);
            rests[i] = FLIP_BYTES;
          } else {
            flips[slot] = null;
            keys[i] = ("user:" + random.nextInt(profiles)).getBytes(StandardCharsets.UTF_8);
            rests[i] = updates[random.nextInt(updates.length)];
          }
          sentAt[slot] = now;
        }
        count += n;
        unanswered += n;
        requests.onNext(request(firstId, keys, rests, n));
      }
      return count;
    }

    @Override
    public void onNext(IngestReply reply) {
      long now = System.nanoTime();
      synchronized (this) {
        for (IdRange r : reply.getAckedList()) {
          for (long id = r.getFirst(); id <= r.getLast(); id++) {
            answered(id, now);
          }
        }
        for (var e : reply.getErrorsList()) {
          if (refused.getAndIncrement() == 0) {
            System.err.println(
                "whack bench: an item was refused: " + e.getCode() + " " + e.getMessage());
          }
          answered(e.getId(), now);
        }
      }
      fill(paced ? 0 : Integer.MAX_VALUE);
    }

    private void answered(long id, long now) {
      int slot = (int) (id % inFlight);
      unanswered--;
      if (now >= measureFrom && now < end) {
        latency.recordValue(Math.min(now - sentAt[slot], TimeUnit.SECONDS.toNanos(60)));
        measured.incrementAndGet();
      }
      if (flips[slot] != null) {
        changeDelays.acknowledged(flips[slot], now);
        flips[slot] = null;
      }
    }

    @Override
    public void onError(Throwable t) {
      System.err.println("whack bench: an Ingest stream failed: " + t);
      done.countDown();
    }

    @Override
    public void onCompleted() {
      done.countDown();
    }
  }
}
