package io.ferryhub.gateway;

import io.netty.channel.Channel;
import io.netty.handler.traffic.ChannelTrafficShapingHandler;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Bandwidth caps of the gateway's streams, in bytes per second and per direction (zero: no cap): each stream,
 * all streams of one device (or module), and all streams together. A capped end's writes are paced; once a
 * little is queued the end reports itself unwritable, so the relay stops reading the other end (memory stays
 * bounded, nothing is dropped).
 */
public final class BandwidthCaps {
    /** Queued per end before the relay is told to stop reading. */
    private static final long MAX_QUEUED = 256 * 1024;
    private static final long CHECK_INTERVAL_MILLIS = 100;

    private final long perStream;
    private final long perDevice;
    private final long total;
    private final GlobalTrafficShapingHandler all;
    private final Map<String, Shared> devices = new HashMap<>();

    private record Shared(GlobalTrafficShapingHandler handler, int[] users) {
    }

    public BandwidthCaps(long perStream, long perDevice, long total, ScheduledExecutorService timer) {
        if (perStream < 0 || perDevice < 0 || total < 0) {
            throw new IllegalArgumentException("bandwidth caps cannot be negative");
        }
        this.perStream = perStream;
        this.perDevice = perDevice;
        this.total = total;
        this.all = total == 0 ? null : shared(timer, total);
    }

    public static BandwidthCaps none() {
        return new BandwidthCaps(0, 0, 0, null);
    }

    public boolean any() {
        return perStream > 0 || perDevice > 0 || total > 0;
    }

    /** Puts the shapers in front of the relay on both ends of a stream of {@code identity}. */
    void apply(String identity, Channel first, Channel second) {
        if (!any()) {
            return;
        }
        GlobalTrafficShapingHandler device = perDevice == 0 ? null : acquire(identity, first.eventLoop());
        for (Channel ch : new Channel[] {first, second}) {
            if (all != null) {
                ch.pipeline().addLast("cap-total", all);
            }
            if (device != null) {
                ch.pipeline().addLast("cap-device", device);
            }
            if (perStream > 0) {
                ChannelTrafficShapingHandler stream = new ChannelTrafficShapingHandler(perStream, 0,
                        CHECK_INTERVAL_MILLIS);
                stream.setMaxWriteSize(MAX_QUEUED);
                ch.pipeline().addLast("cap-stream", stream);
            }
        }
        if (device != null) {
            second.closeFuture().addListener(f -> release(identity));
        }
    }

    private synchronized GlobalTrafficShapingHandler acquire(String identity, ScheduledExecutorService timer) {
        Shared shared = devices.computeIfAbsent(identity, k -> new Shared(shared(timer, perDevice), new int[1]));
        shared.users()[0]++;
        return shared.handler();
    }

    private synchronized void release(String identity) {
        Shared shared = devices.get(identity);
        if (shared != null && --shared.users()[0] == 0) {
            devices.remove(identity);
            shared.handler().release();
        }
    }

    private static GlobalTrafficShapingHandler shared(ScheduledExecutorService timer, long limit) {
        GlobalTrafficShapingHandler handler = new GlobalTrafficShapingHandler(timer, limit, 0,
                CHECK_INTERVAL_MILLIS);
        handler.setMaxWriteSize(MAX_QUEUED);
        return handler;
    }
}
