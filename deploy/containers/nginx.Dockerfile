# nginx (Debian's nginx-light) as the compose stack's serving proxy in front of a Bento container (profile
# "serving" of docker-compose.yaml): answers 503 with a JSON reason while the Bento is not up.
ARG BASE_IMAGE=localhost/debian-base
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# no init system in a build: forbid the package's service start
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends nginx-light >/dev/null \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /usr/sbin/policy-rc.d /etc/nginx/sites-enabled/*
COPY deploy/containers/serving-nginx.conf /etc/nginx/conf.d/serving.conf
# health check: the proxy accepts connections (bash's /dev/tcp; the image has no curl or Python)
RUN printf '#!/bin/bash\nexec 3<>/dev/tcp/127.0.0.1/8080\n' > /usr/local/bin/proxy-health \
    && chmod +x /usr/local/bin/proxy-health
EXPOSE 8080
CMD ["nginx", "-g", "daemon off;"]
