package io.ferryhub.hub.service.throttling;

/**
 * The operations IoT Hub throttles separately, each with its S1 limit for a number of units (IoT Hub's "quotas and
 * throttling" table). The {@link #flag} is the name in {@code --throttle NAME=RATE}.
 */
public enum OperationClass {
    /** New device connections (MQTT CONNECT, AMQP authentication): max(100/s, 12/s/unit). */
    CONNECT("connect", 0),
    /** Device-to-cloud sends: max(100/s, 12/s/unit). */
    D2C("d2c", 0),
    /** Cloud-to-device sends: 100/min/unit. */
    C2D("c2d", 0),
    /** Twin reads (service routes and devices' twin GET): 100/s. */
    TWIN_READ("twin-read", 0),
    /** Twin updates (service routes and devices' reported patches): 50/s. */
    TWIN_UPDATE("twin-update", 0),
    /** Direct methods: 160 KB/s/unit, every call metered in 4 KB chunks (a 0-4 KB call costs 4 KB). */
    METHODS("methods", 4096),
    /** Identity registry operations (create, read, update, delete, list): 100/min/unit. */
    REGISTRY("registry", 0),
    /** Queries: 20/min/unit. */
    QUERY("query", 0),
    /** Device stream requests: 5/s whatever the units. */
    STREAMS("streams", 0);

    private final String flag;
    private final int meterBytes;

    OperationClass(String flag, int meterBytes) {
        this.flag = flag;
        this.meterBytes = meterBytes;
    }

    public String flag() {
        return flag;
    }

    /** The metering chunk in bytes for a class metered by size (direct methods), 0 for one per operation. */
    public int meterBytes() {
        return meterBytes;
    }

    /** The cost of one operation of {@code bytes}: 1, or the number of started meter chunks (at least 1). */
    public int cost(long bytes) {
        if (meterBytes == 0 || bytes <= meterBytes) {
            return 1;
        }
        return (int) Math.min(Integer.MAX_VALUE, (bytes + meterBytes - 1) / meterBytes);
    }

    /** IoT Hub S1's limit for {@code units} units. */
    public Rate s1(int units) {
        return switch (this) {
            case CONNECT, D2C -> Rate.perSecond(Math.max(100, 12.0 * units));
            case C2D, REGISTRY -> Rate.perMinute(100.0 * units);
            case TWIN_READ -> Rate.perSecond(100);
            case TWIN_UPDATE -> Rate.perSecond(50);
            case METHODS -> Rate.perSecond(160.0 * 1024 * units / meterBytes);
            case QUERY -> Rate.perMinute(20.0 * units);
            case STREAMS -> Rate.perSecond(5);
        };
    }

    public static OperationClass ofFlag(String flag) {
        for (OperationClass op : values()) {
            if (op.flag.equals(flag)) {
                return op;
            }
        }
        return null;
    }
}
