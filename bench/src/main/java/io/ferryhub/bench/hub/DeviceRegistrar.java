package io.ferryhub.bench.hub;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Registers devices through {@code PUT /devices/{id}} with a fixed number of requests in flight, logging progress.
 * Stops at the first failure, or when the deadline passes.
 */
public final class DeviceRegistrar {
    private static final Logger log = LoggerFactory.getLogger(DeviceRegistrar.class);

    /** What is done with each created device's primary key. */
    public interface KeySink {
        void accept(int index, String primaryKey);
    }

    private final HubRestClient client;
    private final int concurrency;

    public DeviceRegistrar(HubRestClient client, int concurrency) {
        this.client = client;
        this.concurrency = concurrency;
    }

    /**
     * Creates devices {@code from} (inclusive) to {@code to} (exclusive).
     *
     * @param progress called about every 10% (and at the end) with the number of devices created so far
     */
    public void register(int from, int to, IntFunction<String> deviceIds, KeySink keys, Duration timeout,
                         java.util.function.LongConsumer progress) throws IOException, InterruptedException {
        Semaphore inFlight = new Semaphore(concurrency);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong done = new AtomicLong();
        long total = to - from;
        long step = Math.max(1, total / 10);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = from; i < to && failure.get() == null; i++) {
            if (!inFlight.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new IOException("registration passed its deadline of " + timeout.toMinutes() + " min after "
                        + done.get() + " devices");
            }
            int index = i;
            client.createDevice(deviceIds.apply(index)).whenComplete((key, error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                } else {
                    keys.accept(index, key);
                    long n = done.incrementAndGet();
                    if (n % step == 0) {
                        progress.accept(n);
                    }
                }
                inFlight.release();
            });
        }
        if (!inFlight.tryAcquire(concurrency, Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            throw new IOException("registration did not finish within " + timeout.toMinutes() + " min");
        }
        inFlight.release(concurrency);
        if (failure.get() != null) {
            throw new IOException("registration failed after " + done.get() + " devices: "
                    + failure.get().getMessage(), failure.get());
        }
        log.debug("registered {} devices", done.get());
    }
}
