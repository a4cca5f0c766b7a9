# How the rabbitmq-broker BOSH job reads its `rabbitmq-server` link, instead of brokers/list's
# path rule (bosh-jobs/templates/broker/link-rule.rb), which cannot say it: cf-rabbitmq-release's
# and PaaS-TA's rabbitmq-server job exposes its whole `rabbitmq-server` tree, and the management
# API's scheme, port and CA follow its management_tls. generate-jobs puts this inside
# if_link('rabbitmq-server') { |server| ... } of the job's templates, with `driver` (the
# `driver` property's keys), `server_ca` and p(); keys the property sets win.
tree = 'rabbitmq-server'
truthy = ->(value) { value == true || value.to_s == 'true' }
tls = truthy.call(server.p("#{tree}.management_tls.enabled", false))
unless driver.key?('api_url') || driver.key?('host') || server.instances.empty?
  host = server.instances[0].address.to_s
  host = "[#{host}]" if host.include?(':') && !host.start_with?('[')
  driver['api_url'] = tls ? "https://#{host}:15671" : "http://#{host}:15672"
end
server_ca = server.p("#{tree}.management_tls.cacert", nil) if tls && server_ca.to_s.strip.empty?
{ 'admin_user' => 'username', 'admin_password' => 'password' }.each do |key, account_key|
  value = server.p("#{tree}.administrators.broker.#{account_key}", nil)
  driver[key] = value unless value.nil? || driver.key?(key)
end
# Credentials say plain AMQP (ssl false): a server without a plain listener needs another endpoint.
if truthy.call(server.p("#{tree}.ssl.disable_non_ssl_listeners", false)) && !driver.key?('amqp_host')
  raise 'driver.amqp_host: the linked server accepts AMQP over TLS only (ssl.disable_non_ssl_listeners); ' \
        'set driver.amqp_host and driver.amqp_port to a plain AMQP endpoint'
end
