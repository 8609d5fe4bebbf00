package com.aliyun.oss;

import com.aliyun.oss.common.comm.DefaultServiceClient;

/** Stand-in for the OSS SDK client: must be shutdown() when no longer used. */
public class OSSClient {
    private final String endpoint;
    private final DefaultServiceClient serviceClient = new DefaultServiceClient();

    public OSSClient(String endpoint) {
        this.endpoint = endpoint;
    }

    public void shutdown() {
        serviceClient.shutdown();
    }
}
