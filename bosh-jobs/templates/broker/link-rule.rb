# The server link's rule of brokers/list (generate-jobs puts it inside if_link, where `server`
# is the link): the first instance is the server's host, and the line's link_port=, link_user=
# and link_password= paths give port, admin_user and admin_password (in that order, so a path
# may use $admin_user). The `driver` property wins over all of them.
fill = ->(key, value) { driver[key] = value unless driver.key?(key) || value.nil? }
fill.call('host', server.instances[0].address.to_s) unless server.instances.empty?
link_paths.each { |key, paths| fill.call(key, link_value.call(server, key, paths)) }
